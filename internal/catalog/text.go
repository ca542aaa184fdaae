package catalog

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// TextRule says which characters a string from a client may hold. Every string that reaches a
// store passes one of these rules first, whichever way it came in (body field, path value,
// query parameter, header or cursor), so both stores see the same text: PostgreSQL refuses NUL
// and invalid UTF-8 in text columns, SQLite stores them, and neither may decide for us.
type TextRule int

// Text rules, from the most to the least permissive.
const (
	// Multiline text (descriptions, notes) may hold newlines and tabs; no other control
	// character.
	Multiline TextRule = iota
	// Line text (names of things shown to people, search terms, header values) holds no control
	// character at all.
	Line
	// Identifier text (SKUs, slugs, brands, names, attribute keys, idempotency keys) holds no
	// control character and no invisible format character (Unicode category Cf: bidi overrides
	// U+202A-U+202E and U+2066-U+2069, zero-width spaces and joiners, the BOM...), which could make
	// two identifiers look alike or reorder text on a reviewer's terminal.
	Identifier
)

// TextProblem returns why s breaks rule, or "" when it does not. Control characters are C0
// (U+0000-U+001F, ESC included), DEL and C1 (U+0080-U+009F), so no terminal escape sequence can
// be stored.
func TextProblem(s string, rule TextRule) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fmt.Sprintf("must be valid UTF-8 (bad byte 0x%02x at byte %d)", s[i], i)
		case r == 0:
			return fmt.Sprintf("must not contain NUL (at byte %d)", i)
		case unicode.IsControl(r) && !(rule == Multiline && (r == '\n' || r == '\t' || r == '\r')):
			return fmt.Sprintf("must not contain control characters (U+%04X at byte %d)", r, i)
		case rule == Identifier && unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("must not contain invisible format characters (U+%04X at byte %d)", r, i)
		}
		i += size
	}
	return ""
}

// CheckText returns an invalid-input error naming field when s breaks rule.
func CheckText(field, s string, rule TextRule) error {
	if why := TextProblem(s, rule); why != "" {
		return InvalidField(field, "%s", why)
	}
	return nil
}

// checkText records a problem with field when s breaks rule, and reports whether s passed.
func checkText(p *Problems, field, s string, rule TextRule) bool {
	if why := TextProblem(s, rule); why != "" {
		p.Add(field, "%s", why)
		return false
	}
	return true
}
