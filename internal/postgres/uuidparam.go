package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// sendUUIDStringsBinary makes conn send a []string parameter of type uuid[] as a binary uuid
// array, each canonical string parsed into its 16 bytes.
//
// pgx v5.12.0 has no binary plan for a string into uuid: for every []string it tried one,
// formatted the whole slice with %#v into an error message, dropped it, and sent the array as
// text, which PostgreSQL then parsed element by element (and re-planned the next call, since a
// missing plan is not memoized). The store's IDs are all strings (catalog.NewID), and an import
// batch passes five to eight such arrays of 1,000 to 7,500 IDs. Every other value, and scanning,
// is left to pgx's own uuid[] codec.
func sendUUIDStringsBinary(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	t, ok := m.TypeForOID(pgtype.UUIDArrayOID)
	if !ok {
		return fmt.Errorf("pgx has no uuid[] type to extend")
	}
	m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: uuidStringsCodec{Codec: t.Codec}})
	return nil
}

// uuidStringsCodec is pgx's uuid[] codec with its own plans for a []string.
type uuidStringsCodec struct{ pgtype.Codec }

func (c uuidStringsCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.([]string); ok {
		switch format {
		case pgtype.BinaryFormatCode:
			return uuidStringsBinary{}
		case pgtype.TextFormatCode:
			// pgx falls back to text when the binary plan fails; answering that fallback with
			// the same check keeps a wrong string an error instead of whatever the server's
			// more lenient parse (braces, no hyphens) makes of it.
			return uuidStringsText{}
		}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type uuidStringsBinary struct{}

// Encode writes PostgreSQL's binary array format (array_send): dimensions, a has-nulls flag,
// the element type, then each element's length and bytes. A nil slice is NULL, as with pgx's
// own plans.
func (uuidStringsBinary) Encode(value any, buf []byte) ([]byte, error) {
	return encodeUUIDStrings(value.([]string), buf)
}

func encodeUUIDStrings(ids []string, buf []byte) ([]byte, error) {
	if ids == nil {
		return nil, nil
	}
	if len(ids) == 0 {
		// ndim 0 is how PostgreSQL itself sends an empty array.
		return binary.BigEndian.AppendUint32(append(buf, 0, 0, 0, 0, 0, 0, 0, 0), pgtype.UUIDOID), nil
	}
	buf = slices.Grow(buf, 20+20*len(ids))
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	buf = binary.BigEndian.AppendUint32(buf, 0) // no NULLs
	buf = binary.BigEndian.AppendUint32(buf, pgtype.UUIDOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(ids)))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	for i, s := range ids {
		u, ok := parseCanonicalUUID(s)
		if !ok {
			return nil, badUUID(i, s)
		}
		buf = binary.BigEndian.AppendUint32(buf, 16)
		buf = append(buf, u[:]...)
	}
	return buf, nil
}

type uuidStringsText struct{}

// Encode writes the array literal {id,id,...}; canonical UUIDs need no quotes.
func (uuidStringsText) Encode(value any, buf []byte) ([]byte, error) {
	ids := value.([]string)
	if ids == nil {
		return nil, nil
	}
	buf = append(buf, '{')
	for i, s := range ids {
		if _, ok := parseCanonicalUUID(s); !ok {
			return nil, badUUID(i, s)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, s...)
	}
	return append(buf, '}'), nil
}

func badUUID(i int, s string) error {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Errorf("uuid[] element %d: %q is not a UUID in the 8-4-4-4-12 hexadecimal form", i, s)
}

// parseCanonicalUUID parses the 36-character form RFC 9562 writes (hexadecimal digits of either
// case, hyphens after the 8th, 12th, 16th and 20th digit). It refuses every other form, where
// PostgreSQL would also take braces, missing hyphens or hyphens between any digit pairs: IDs
// reach here from catalog.NewID or catalog.ValidID, so anything else is a defect to report.
func parseCanonicalUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var bad byte
	j := 0
	for _, k := range uuidDigitPairs {
		hi, lo := hexValue[s[k]], hexValue[s[k+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo
		j++
	}
	if bad&0x80 != 0 {
		return [16]byte{}, false
	}
	return u, true
}

// uuidDigitPairs are the offsets of the 16 digit pairs in the canonical form.
var uuidDigitPairs = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexValue maps a hexadecimal digit to its value and every other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()
