package catalog

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// NewID returns a new UUIDv7 (RFC 9562): a millisecond timestamp followed by a counter and
// random bits. IDs made by one process increase strictly, so inserts append to the primary-key
// index instead of scattering across it.
func NewID() string { return ids.next(time.Now()) }

var ids idGenerator

type idGenerator struct {
	mu     sync.Mutex
	lastMS int64
	seq    uint16 // 12-bit counter within a millisecond (RFC 9562 method 1)
}

func (g *idGenerator) next(now time.Time) string {
	g.mu.Lock()
	ms := now.UnixMilli()
	if ms > g.lastMS {
		g.lastMS = ms
		var b [2]byte
		_, _ = rand.Read(b[:])
		g.seq = binary.BigEndian.Uint16(b[:]) & 0x01ff // start low so the counter rarely overflows
	} else {
		g.seq++
		if g.seq > 0x0fff { // counter exhausted: borrow the next millisecond
			g.lastMS++
			g.seq = 0
		}
		ms = g.lastMS
	}
	seq := g.seq
	g.mu.Unlock()

	var u [16]byte
	binary.BigEndian.PutUint64(u[0:8], uint64(ms)<<16)
	u[6] = 0x70 | byte(seq>>8)
	u[7] = byte(seq)
	_, _ = rand.Read(u[8:])
	u[8] = 0x80 | u[8]&0x3f
	return format(u)
}

func format(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// ValidID reports whether s is a canonical (lower-case, hyphenated) UUID.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
