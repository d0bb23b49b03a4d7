#pragma once

// The bytes of message number `seq`, made the same way by tst_netfaults and
// its peer program: a pseudo-random pattern that depends on `seq`, so that a
// lost, repeated, reordered or damaged message shows, and that compression
// could not shrink.

#include <QtCore/qbytearray.h>

#include <cstring>

inline QByteArray netfaultPayload(quint32 seq, qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    // xorshift32; an odd seed is never the 0 it cannot leave.
    quint32 state = seq * 2 + 1;
    for (qsizetype i = 0; i < size; i += qsizetype(sizeof state)) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        std::memcpy(data.data() + i, &state, size_t(qMin<qsizetype>(sizeof state, size - i)));
    }
    return data;
}
