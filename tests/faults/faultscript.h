#pragma once

// The exchanges of tst_faults as scripts: the steps a scripted peer takes
// with the side under test, the points of a script where a fault can strike,
// and what the side under test has done by each point, from which a run
// knows how it must end. Nothing here touches a socket.

#include "scriptedpeer.h"

#include <wsqt/wserror.h>
#include <wsqt/wssocket.h>

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

#include <functional>
#include <optional>

namespace faults {

// The role of the side under test: a WsServer's connection or a WsSocket client.
enum class Role { Server, Client };

// The extensions the scripted peer negotiates.
enum class Extensions { None, Deflate };

// What the application under test does with each message it receives.
enum class OnMessage { Echo, SendBulk, Close, Delete, DeleteLater };
// And what it does when its socket closed.
enum class OnClosed { Nothing, Delete, DeleteLater };

constexpr qsizetype kMiB = 1024 * 1024;
// More than the kernel's buffers of a loopback connection hold for a peer
// that reads nothing, so that the sender's own queue backs up.
constexpr qsizetype kBulkSize = 16 * kMiB;

inline const QByteArray &bulkMessage()
{
    static const QByteArray bulk = [] {
        QByteArray bytes(kBulkSize, Qt::Uninitialized);
        // Not one repeated byte: bytes out of order would show.
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char(i % 251);
        return bytes;
    }();
    return bulk;
}

// What the side under test has been through by a point of a script, as far
// as how its connection must end is concerned.
struct Progress
{
    bool connected = false;                 // TCP up, and TLS where used: HTTP can flow
    bool opened = false;                    // the upgrade completed
    std::optional<int> peerCloseCode;       // the peer's close frame arrived whole
    QByteArray peerCloseReason;
    bool closing = false;                   // the side under test sent or queued its close frame
    WsError::Code error = WsError::NoError; // the protocol error it found
    enum Deletion { Kept, Deleted, DeletedLater } deletion = Kept;
    bool sendingBulk = false;               // it queued a bulk message the peer has not all read
    bool bulkReadWhileClosing = false;      // the peer read a bulk message after closing began

    bool isClosing() const { return closing || peerCloseCode || error != WsError::NoError; }
};

// A point inside a step: after `offset` bytes of it were written or read.
struct Cut
{
    qsizetype offset;
    QByteArray name;
};

struct Step
{
    enum Kind {
        Connect,    // the peer's TCP connection, then TLS where used
        Handshake,  // the peer's half of the upgrade: the request, or the 101 response
        Write,      // the peer writes a frame
        Read,       // the peer reads a frame of the side under test
        Act,        // the application under test calls its socket
        End,        // the peer reads until the side under test ends the connection
    };

    Step(Kind kind, QByteArray label) : kind(kind), label(std::move(label)) { }

    Kind kind;
    QByteArray label;
    QByteArray bytes;           // Handshake, Write: what the peer writes (Handshake in the
                                // client role: a response of the same size)
    quint8 firstByte = 0;       // Read: the frame expected
    QByteArray payload;
    bool deflated = false;      // Read: its payload is compressed
    std::function<void(WsSocket *socket)> act;
    QList<Cut> cuts;
    bool pointAfter = true;     // whether the end of the step is a point
    bool faulted = true;        // false: the step only leads into or out of the exchange
    std::function<void(Progress &progress)> effect;
    qsizetype effectAt = -1;    // the bytes after which the effect holds; -1: once the step is done
};

// Where a fault strikes: inside step `step` after `offset` bytes, or after
// the whole step (offset -1).
struct Point
{
    int step = 0;
    qsizetype offset = -1;
    QByteArray name;
};

class Script
{
public:
    Script(Role role, Extensions extensions, OnMessage onMessage)
        : m_role(role), m_deflate(extensions == Extensions::Deflate), m_onMessage(onMessage)
    {
    }

    Role role() const { return m_role; }
    bool deflate() const { return m_deflate; }
    const QList<Step> &steps() const { return m_steps; }

    // Steps added from here on are fault points or not.
    void setFaulted(bool faulted) { m_faulted = faulted; }

    // The extension lines of each side's half of the upgrade.
    QByteArray requestExtensions() const
    {
        return m_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "";
    }
    QByteArray responseExtensions() const
    {
        return m_deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "";
    }

    void connect()
    {
        // TLS is the only thing a fault can interrupt here.
        Step step(Step::Connect, "tls");
        step.cuts = {{0, "before-tls"}};
        step.pointAfter = false;
        step.effect = [](Progress &progress) { progress.connected = true; };
        add(std::move(step));
    }

    void handshake()
    {
        const QByteArray label = m_role == Role::Server ? "request" : "response";
        const QByteArray bytes = m_role == Role::Server
                ? wsqt::test::scriptedUpgradeRequest(requestExtensions())
                : wsqt::test::scriptedUpgradeResponse(wsqt::test::scriptedUpgradeRequest(), responseExtensions());
        Step step(Step::Handshake, "upgrade");
        step.bytes = bytes;
        step.cuts = {{0, "before-" + label},
                     {5, "in-" + label + "-line"},
                     {bytes.size() / 2, "in-" + label + "-headers"},
                     {bytes.size() - 2, label + "-without-blank-line"}};
        step.effect = [](Progress &progress) { progress.opened = true; };
        add(std::move(step));
    }

    // A frame from the peer; `effect` is what it makes the side under test do.
    void write(const QByteArray &label, quint8 firstByte, const QByteArray &payload,
               std::function<void(Progress &)> effect = {}, qsizetype effectAt = -1)
    {
        const bool masked = m_role == Role::Server;
        Step step(Step::Write, label);
        step.bytes = wsqt::test::scriptedFrame(firstByte, payload, masked);
        const qsizetype header = 2 + (payload.size() < 126 ? 0 : payload.size() < 65536 ? 2 : 8);
        step.cuts.append({1, "in-" + label + "-header"});
        if (masked)
            step.cuts.append({header + 2, "in-" + label + "-mask-key"});
        if (payload.size() >= 2)
            step.cuts.append({header + (masked ? 4 : 0) + payload.size() / 2, "in-" + label + "-payload"});
        step.effect = std::move(effect);
        step.effectAt = effectAt;
        add(std::move(step));
    }

    // A whole message, to which the application under test reacts.
    void message(const QByteArray &label, quint8 firstByte, const QByteArray &payload)
    {
        write(label, firstByte, payload, handlerEffect());
    }

    void read(const QByteArray &label, quint8 firstByte, const QByteArray &payload, bool deflated = false,
              std::function<void(Progress &)> effect = {}, QList<Cut> cuts = {})
    {
        Step step(Step::Read, label);
        step.firstByte = firstByte;
        step.payload = payload;
        step.deflated = deflated;
        step.cuts = std::move(cuts);
        step.effect = std::move(effect);
        add(std::move(step));
    }

    // The bulk message the side under test sends, with a point after its first MiB.
    void readBulk()
    {
        read("bulk", 0x82, bulkMessage(), false, [](Progress &progress) {
            progress.sendingBulk = false;
            progress.bulkReadWhileClosing = progress.isClosing();
        }, {{kMiB, "in-bulk"}});
    }

    void act(const QByteArray &label, std::function<void(WsSocket *)> action, std::function<void(Progress &)> effect)
    {
        Step step(Step::Act, label);
        step.act = std::move(action);
        step.effect = std::move(effect);
        add(std::move(step));
    }

    void end()
    {
        Step step(Step::End, "end");
        step.pointAfter = false;
        add(std::move(step));
    }

    // The peer's close frame (without a code when `code` is 0), the side
    // under test's answer (the same code and reason, as ws), the end of the connection.
    void closeByPeer(quint16 code, const QByteArray &reason = {})
    {
        const QByteArray payload = code ? wsqt::test::closePayload(code, reason) : QByteArray();
        write("close", 0x88, payload, [code, reason](Progress &progress) {
            progress.peerCloseCode = code ? code : 1005;
            progress.peerCloseReason = reason;
            progress.closing = true;
        });
        read("close-reply", 0x88, payload);
        end();
    }

    // Every point of the script where a fault may strike; over TLS only the
    // ends of steps (and the TLS handshake), to keep the time down.
    QList<Point> points(bool tls) const
    {
        QList<Point> result;
        for (int i = 0; i < m_steps.size(); ++i) {
            const Step &step = m_steps.at(i);
            if (!step.faulted)
                continue;
            // Over TLS the one cut is in the TLS handshake; in plain TCP every other one.
            for (const Cut &cut : step.cuts) {
                if (tls == (step.kind == Step::Connect))
                    result.append({i, cut.offset, cut.name});
            }
            if (step.pointAfter)
                result.append({i, -1, "after-" + step.label});
        }
        return result;
    }

    // What the side under test has been through once the peer got to `point`.
    Progress progressAt(const Point &point) const
    {
        Progress progress;
        for (int i = 0; i <= point.step && i < m_steps.size(); ++i) {
            const Step &step = m_steps.at(i);
            const bool partial = i == point.step && point.offset >= 0;
            if (step.effect && (!partial || (step.effectAt >= 0 && point.offset >= step.effectAt)))
                step.effect(progress);
        }
        return progress;
    }

    // The whole script, run to its end.
    Point whole() const { return {int(m_steps.size()) - 1, -1, "whole"}; }

private:
    std::function<void(Progress &)> handlerEffect() const
    {
        switch (m_onMessage) {
        case OnMessage::Echo:
            return {};
        case OnMessage::SendBulk:
            return [](Progress &progress) { progress.sendingBulk = true; };
        case OnMessage::Close:
            return [](Progress &progress) { progress.closing = true; };
        case OnMessage::Delete:
            return [](Progress &progress) { progress.deletion = Progress::Deleted; };
        case OnMessage::DeleteLater:
            return [](Progress &progress) { progress.deletion = Progress::DeletedLater; };
        }
        return {};
    }

    void add(Step step)
    {
        step.faulted = m_faulted;
        m_steps.append(std::move(step));
    }

    Role m_role;
    bool m_deflate;
    OnMessage m_onMessage;
    bool m_faulted = true;
    QList<Step> m_steps;
};

// One exchange: its name, its options, and its steps between the opening
// handshake and, unless they end the connection themselves, a clean close
// by the peer. One without steps of its own is about the handshake: its
// faults strike there.
struct Exchange
{
    const char *name;
    Extensions extensions;
    OnMessage onMessage;
    OnClosed onClosed;
    std::function<void(Script &script)> body;

    Script script(Role role) const
    {
        Script script(role, extensions, onMessage);
        script.setFaulted(!body);
        script.connect();
        script.handshake();
        script.setFaulted(true);
        if (body)
            body(script);
        if (script.steps().constLast().kind != Step::End) {
            script.setFaulted(false);
            script.closeByPeer(1000);
        }
        return script;
    }
};

} // namespace faults
