#include "extension.h"

#include "http.h"

namespace wsqt::core {

namespace {

bool isSpaceOrTab(char c)
{
    return c == ' ' || c == '\t';
}

QByteArray withoutBackslashes(QByteArrayView text)
{
    QByteArray result;
    result.reserve(text.size());
    for (char c : text) {
        if (c != '\\')
            result.append(c);
    }
    return result;
}

} // namespace

bool parseExtensions(QByteArrayView header, QList<ExtensionOffer> *offers, QString *error)
{
    // The parser sits in one of three places: reading an extension name,
    // a parameter name, or a parameter value. `start` and `end` delimit the
    // current token; `end` is set by the whitespace that may follow it.
    enum class Place { ExtensionName, ParamName, ParamValue };
    Place place = Place::ExtensionName;
    QList<ExtensionOffer> result;
    ExtensionOffer offer;
    QByteArray paramName;
    qsizetype start = -1;
    qsizetype end = -1;
    bool inQuotes = false;
    bool isEscaping = false;
    bool hasEscapes = false;

    const auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    const auto unexpected = [&](qsizetype index) {
        return fail(QStringLiteral("Unexpected character at index %1").arg(index));
    };
    const auto token = [&]() { return header.sliced(start, end - start); };
    const auto value = [&]() {
        return hasEscapes ? withoutBackslashes(token()) : token().toByteArray();
    };
    const auto finishOffer = [&]() {
        result.append(std::move(offer));
        offer = ExtensionOffer();
        place = Place::ExtensionName;
    };

    for (qsizetype i = 0; i < header.size(); ++i) {
        const char c = header[i];
        const bool tokenChar = isTokenChar(uchar(c));

        if (place == Place::ExtensionName) {
            if (end == -1 && tokenChar) {
                if (start == -1)
                    start = i;
            } else if (i != 0 && isSpaceOrTab(c)) {
                if (end == -1 && start != -1)
                    end = i;
            } else if (c == ';' || c == ',') {
                if (start == -1)
                    return unexpected(i);
                if (end == -1)
                    end = i;
                offer.name = token().toByteArray();
                if (c == ',')
                    finishOffer();
                else
                    place = Place::ParamName;
                start = end = -1;
            } else {
                return unexpected(i);
            }
        } else if (place == Place::ParamName) {
            if (end == -1 && tokenChar) {
                if (start == -1)
                    start = i;
            } else if (isSpaceOrTab(c)) {
                if (end == -1 && start != -1)
                    end = i;
            } else if (c == ';' || c == ',') {
                if (start == -1)
                    return unexpected(i);
                if (end == -1)
                    end = i;
                offer.params.append({token().toByteArray(), std::nullopt});
                if (c == ',')
                    finishOffer();
                start = end = -1;
            } else if (c == '=' && start != -1 && end == -1) {
                end = i;
                paramName = token().toByteArray();
                place = Place::ParamValue;
                start = end = -1;
            } else {
                return unexpected(i);
            }
        } else if (isEscaping) {
            // Only a token character may be escaped: the unescaped value must be a token.
            if (!tokenChar)
                return unexpected(i);
            if (start == -1)
                start = i;
            else
                hasEscapes = true;
            isEscaping = false;
        } else if (inQuotes) {
            if (tokenChar) {
                if (start == -1)
                    start = i;
            } else if (c == '"' && start != -1) {
                inQuotes = false;
                end = i;
            } else if (c == '\\') {
                isEscaping = true;
            } else {
                return unexpected(i);
            }
        } else if (c == '"' && header[i - 1] == '=') {
            inQuotes = true;
        } else if (end == -1 && tokenChar) {
            if (start == -1)
                start = i;
        } else if (start != -1 && isSpaceOrTab(c)) {
            if (end == -1)
                end = i;
        } else if (c == ';' || c == ',') {
            if (start == -1)
                return unexpected(i);
            if (end == -1)
                end = i;
            offer.params.append({paramName, value()});
            hasEscapes = false;
            if (c == ',')
                finishOffer();
            else
                place = Place::ParamName;
            start = end = -1;
        } else {
            return unexpected(i);
        }
    }

    if (start == -1 || inQuotes || (!header.isEmpty() && isSpaceOrTab(header.back())))
        return fail(QStringLiteral("Unexpected end of input"));

    if (end == -1)
        end = header.size();
    switch (place) {
    case Place::ExtensionName:
        offer.name = token().toByteArray();
        break;
    case Place::ParamName:
        offer.params.append({token().toByteArray(), std::nullopt});
        break;
    case Place::ParamValue:
        offer.params.append({paramName, value()});
        break;
    }
    result.append(std::move(offer));
    if (offers)
        *offers = std::move(result);
    return true;
}

QByteArray formatExtensions(const QList<ExtensionOffer> &offers)
{
    QByteArray header;
    for (const ExtensionOffer &offer : offers) {
        if (!header.isEmpty())
            header += ", ";
        header += offer.name;
        for (const ExtensionParam &param : offer.params) {
            header += "; ";
            header += param.name;
            if (!param.value)
                continue;
            header += '=';
            if (isToken(*param.value)) {
                header += *param.value;
                continue;
            }
            header += '"';
            for (char c : *param.value) {
                if (c == '"' || c == '\\')
                    header += '\\';
                header += c;
            }
            header += '"';
        }
    }
    return header;
}

} // namespace wsqt::core
