#pragma once

// Message contents of an exact size, deterministic for a seed.

#include <cstddef>
#include <string>

namespace loadgen {

enum class PayloadKind { Binary, Text, Json };

// Binary: pseudo-random bytes. Text: valid UTF-8, mostly ASCII with a two-
// or three-byte character every few words, so a validator cannot take an
// ASCII-only path throughout. Json: an order document whose values change
// with the seed (the sort of message permessage-deflate is meant for).
std::string makePayload(PayloadKind kind, size_t size, unsigned seed);

} // namespace loadgen
