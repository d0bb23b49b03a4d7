#include "handshake.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qcryptographichash.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <vector>

namespace loadgen {

namespace {

const char *const kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

std::string trim(const std::string &text)
{
    const size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos)
        return {};
    const size_t end = text.find_last_not_of(" \t");
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> split(const std::string &text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t end = text.find(separator, start);
        parts.push_back(trim(text.substr(start, end == std::string::npos ? std::string::npos : end - start)));
        if (end == std::string::npos)
            return parts;
        start = end + 1;
    }
}

struct Head
{
    std::string startLine;
    // Lower-case names; repeated fields joined with ", ".
    std::map<std::string, std::string> fields;
};

Head parseHead(const std::string &text)
{
    Head head;
    size_t pos = 0;
    bool first = true;
    while (pos <= text.size()) {
        size_t end = text.find("\r\n", pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 2;
        if (first) {
            head.startLine = line;
            first = false;
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string &value = head.fields[lower(trim(line.substr(0, colon)))];
        const std::string part = trim(line.substr(colon + 1));
        value = value.empty() ? part : value + ", " + part;
    }
    return head;
}

bool hasToken(const std::string &list, const std::string &token)
{
    for (const std::string &item : split(list, ','))
        if (lower(item) == token)
            return true;
    return false;
}

bool parseWindowBits(std::string value, int *bits)
{
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    if (value.empty() || value.size() > 2 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return false;
    *bits = std::stoi(value);
    return *bits >= 8 && *bits <= 15;
}

bool parseDeflateResponse(const std::string &value, DeflateParams *deflate, std::string *error)
{
    const std::vector<std::string> extensions = split(value, ',');
    if (extensions.size() != 1) {
        *error = "more than one extension accepted: " + value;
        return false;
    }
    const std::vector<std::string> params = split(extensions.front(), ';');
    if (lower(params.front()) != "permessage-deflate") {
        *error = "unexpected extension: " + value;
        return false;
    }
    deflate->enabled = true;
    for (size_t i = 1; i < params.size(); ++i) {
        const size_t equals = params[i].find('=');
        const std::string name = lower(trim(params[i].substr(0, equals)));
        const std::string argument = equals == std::string::npos ? std::string() : trim(params[i].substr(equals + 1));
        bool ok = true;
        if (name == "server_no_context_takeover")
            deflate->serverNoContextTakeover = true;
        else if (name == "client_no_context_takeover")
            deflate->clientNoContextTakeover = true;
        else if (name == "server_max_window_bits")
            ok = parseWindowBits(argument, &deflate->serverMaxWindowBits);
        else if (name == "client_max_window_bits")
            ok = parseWindowBits(argument, &deflate->clientMaxWindowBits);
        else
            ok = false;
        if (!ok) {
            *error = "bad permessage-deflate parameter: " + params[i];
            return false;
        }
    }
    return true;
}

} // namespace

std::string makeKey()
{
    static std::mt19937_64 generator{std::random_device{}()};
    QByteArray bytes(16, Qt::Uninitialized);
    for (char &byte : bytes)
        byte = char(generator());
    return bytes.toBase64().toStdString();
}

std::string acceptFor(const std::string &key)
{
    const QByteArray input = QByteArray::fromStdString(key + kGuid);
    return QCryptographicHash::hash(input, QCryptographicHash::Sha1).toBase64().toStdString();
}

std::string clientRequest(const std::string &host, int port, const std::string &path,
                          const std::string &key, bool offerDeflate)
{
    std::string request = "GET " + path + " HTTP/1.1\r\n"
                          "Host: " + host + ":" + std::to_string(port) + "\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: " + key + "\r\n"
                          "Sec-WebSocket-Version: 13\r\n";
    if (offerDeflate)
        request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    return request + "\r\n";
}

bool checkResponse(const std::string &text, const std::string &key, bool offeredDeflate,
                   DeflateParams *deflate, std::string *error)
{
    const Head head = parseHead(text);
    if (head.startLine.compare(0, 13, "HTTP/1.1 101 ") != 0 && head.startLine != "HTTP/1.1 101") {
        *error = "not a 101 response: " + head.startLine;
        return false;
    }
    const auto field = [&head](const char *name) {
        const auto it = head.fields.find(name);
        return it == head.fields.end() ? std::string() : it->second;
    };
    if (lower(field("upgrade")) != "websocket" || !hasToken(field("connection"), "upgrade")) {
        *error = "missing Upgrade: websocket or Connection: Upgrade";
        return false;
    }
    if (field("sec-websocket-accept") != acceptFor(key)) {
        *error = "wrong Sec-WebSocket-Accept: " + field("sec-websocket-accept");
        return false;
    }
    *deflate = DeflateParams();
    const std::string extensions = field("sec-websocket-extensions");
    if (extensions.empty())
        return true;
    if (!offeredDeflate) {
        *error = "extension accepted without an offer: " + extensions;
        return false;
    }
    return parseDeflateResponse(extensions, deflate, error);
}

bool serverResponse(const std::string &text, std::string *response)
{
    const Head head = parseHead(text);
    const auto key = head.fields.find("sec-websocket-key");
    if (head.startLine.compare(0, 4, "GET ") != 0 || key == head.fields.end())
        return false;
    *response = "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                "Sec-WebSocket-Accept: " + acceptFor(key->second) + "\r\n\r\n";
    return true;
}

} // namespace loadgen
