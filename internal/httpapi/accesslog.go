package httpapi

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessEntry is one request's access log line: the fields observe logs, in order.
type accessEntry struct {
	at                      time.Time
	id, method, route, path string
	status                  int
	bytes                   int64
	elapsed                 time.Duration
	actor                   string
}

// attrs returns e as the access log's attributes, for a logger that is not writing to a
// known writer (Options.AccessLog unset).
func (e accessEntry) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("request_id", e.id),
		slog.String("method", e.method),
		slog.String("route", e.route),
		slog.String("path", e.path),
		slog.Int("status", e.status),
		slog.Int64("bytes", e.bytes),
		slog.Float64("duration_ms", float64(e.elapsed.Microseconds())/1000),
		slog.String("actor", e.actor),
	}
}

// appendAccessLine appends e as the bytes slog's JSONHandler writes for the same record
// (LogAttrs at Info, message "request", the attributes in this order), so the log's readers
// see one format whichever way a line was written; TestAccessLineIsSlogs holds the two to it,
// and FuzzAccessLine with any strings. Written by hand because the request log was a tenth of
// a hot read's CPU (ADR 0029): slog builds a Record, captures the caller's program counter,
// and formats duration_ms through encoding/json, which this need not.
func appendAccessLine(b []byte, e accessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.at.Round(0).AppendFormat(b, time.RFC3339Nano) // as slog: without the monotonic reading
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendJSONString(b, e.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	// encoding/json writes a float64 in [1e-6, 1e21) as 'f' with the fewest digits; whole
	// microseconds over a thousand are 0 or at least 0.001, and never near 1e21.
	b = strconv.AppendFloat(b, float64(e.elapsed.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"actor":`...)
	b = appendJSONString(b, e.actor)
	return append(b, "}\n"...)
}

// appendJSONString appends s quoted as slog's JSONHandler quotes it: `"` and `\` escaped, \n
// \r \t by name and other control bytes as \u00XX, each byte of invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped (JavaScript reads them as line ends); everything else, <, > and &
// included, as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(append(b, s[start:i]...), `\u202`...)
			b = append(b, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// accessLines are the buffers access lines are formatted into, one per line being written.
var accessLines = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// writeAccessLine writes e's line to w in one Write, as slog's handler does.
func writeAccessLine(w io.Writer, e accessEntry) error {
	bp := accessLines.Get().(*[]byte)
	*bp = appendAccessLine((*bp)[:0], e)
	_, err := w.Write(*bp)
	if cap(*bp) <= 4<<10 { // a line with a huge path is not kept
		accessLines.Put(bp)
	}
	return err
}
