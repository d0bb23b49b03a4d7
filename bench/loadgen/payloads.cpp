#include "payloads.h"

#include <cstdint>
#include <random>

namespace loadgen {

namespace {

std::string binary(size_t size, std::mt19937 &random)
{
    std::string out(size, '\0');
    for (char &byte : out)
        byte = char(random());
    return out;
}

std::string text(size_t size, std::mt19937 &random)
{
    static const char *const words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
                                        "caf\xc3\xa9", "na\xc3\xafve", "\xe2\x82\xac" "42", "r\xc3\xa9sum\xc3\xa9"};
    std::string out;
    while (out.size() < size) {
        std::string word = words[random() % (sizeof(words) / sizeof(words[0]))];
        word += ' ';
        if (out.size() + word.size() > size)
            word = std::string(size - out.size(), '.');  // ASCII keeps the end a character boundary
        out += word;
    }
    return out;
}

std::string json(size_t size, std::mt19937 &random, unsigned seed)
{
    std::string out = "{\"seq\":" + std::to_string(seed) + ",\"user\":\"user-" + std::to_string(random() % 10000)
            + "\",\"ts\":" + std::to_string(1700000000000ULL + random() % 100000000) + ",\"items\":[";
    const std::string tail = "],\"note\":\"\"}";
    bool first = true;
    for (;;) {
        const std::string item = std::string(first ? "" : ",") + "{\"sku\":\"SKU-" + std::to_string(random() % 100000)
                + "\",\"qty\":" + std::to_string(1 + random() % 20) + ",\"price\":" + std::to_string(random() % 10000)
                + "." + std::to_string(random() % 100) + ",\"express\":" + (random() % 2 ? "true" : "false") + "}";
        if (out.size() + item.size() + tail.size() > size)
            break;
        out += item;
        first = false;
    }
    out += "],\"note\":\"";
    while (out.size() + 2 < size)
        out += char('a' + random() % 26);
    out += "\"}";
    return out;
}

} // namespace

std::string makePayload(PayloadKind kind, size_t size, unsigned seed)
{
    std::mt19937 random(seed * 2654435761u + 1);
    switch (kind) {
    case PayloadKind::Binary:
        return binary(size, random);
    case PayloadKind::Text:
        return text(size, random);
    case PayloadKind::Json:
        return json(size, random, seed);
    }
    return {};
}

} // namespace loadgen
