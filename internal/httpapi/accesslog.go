package httpapi

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/acme/catalog/internal/catalogjson"
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
		slog.Float64("duration_ms", e.durationMS()),
		slog.String("actor", e.actor),
	}
}

// durationMS is the request's duration in milliseconds, to the microsecond.
func (e accessEntry) durationMS() float64 { return float64(e.elapsed.Microseconds()) / 1000 }

// appendAccessLine appends e as the bytes slog's JSONHandler writes for the same record
// (LogAttrs at Info, message "request", the attributes in this order, strings quoted by
// catalogjson.AppendLogString), so the log's readers see one format whichever way a line was
// written; TestAccessLineIsSlogs holds the two to it, and FuzzAccessLine with any strings.
// Written by hand because the request log was a tenth of a hot read's CPU (ADR 0029): slog
// builds a Record, captures the caller's program counter, and formats duration_ms through
// encoding/json, which this need not.
func appendAccessLine(b []byte, e accessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.at.Round(0).AppendFormat(b, time.RFC3339Nano) // as slog: without the monotonic reading
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = catalogjson.AppendLogString(b, e.id)
	b = append(b, `,"method":`...)
	b = catalogjson.AppendLogString(b, e.method)
	b = append(b, `,"route":`...)
	b = catalogjson.AppendLogString(b, e.route)
	b = append(b, `,"path":`...)
	b = catalogjson.AppendLogString(b, e.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	// encoding/json writes a float64 in [1e-6, 1e21) as 'f' with the fewest digits; whole
	// microseconds over a thousand are 0 or at least 0.001, and never near 1e21.
	b = strconv.AppendFloat(b, e.durationMS(), 'f', -1, 64)
	b = append(b, `,"actor":`...)
	b = catalogjson.AppendLogString(b, e.actor)
	return append(b, "}\n"...)
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
