#pragma once

// JSON as the admin app shows and reads it: argument lists typed by the user, and socket data
// shown pretty.

#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>

namespace AdminApp {

// Indented JSON of any value the client decodes; binary shows as <binary N bytes>, since a
// QByteArray has no JSON form.
QString prettyJson(const QVariant &value);

struct ParsedArguments
{
    bool ok = false;
    QVariantList args;
    QString error; // translated, with line and column when the parser gave an offset
    int offset = -1; // character offset of the error in the text, -1 when none
};

// The text of the broadcast dialog: a JSON array is the argument list, any other single JSON
// value is one argument, blank text is no argument.
ParsedArguments parseArguments(const QString &text);

} // namespace AdminApp
