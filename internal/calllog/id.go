package calllog

import (
	"encoding/hex"
	"math/rand/v2"
	"time"
)

// newID returns a UUIDv7 (RFC 9562) string whose timestamp is t: ids sort
// roughly by call time, which keeps primary-key inserts at the end of the
// index, and 74 random bits make them unique across replicas.
func newID(t time.Time) string {
	var u [16]byte
	ms := uint64(t.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	a, b := rand.Uint64(), rand.Uint64()
	u[6] = 0x70 | byte(a>>60)&0x0f
	u[7] = byte(a >> 52)
	u[8] = 0x80 | byte(b>>56)&0x3f
	for i := 9; i < 16; i++ {
		u[i] = byte(b >> (8 * (15 - i)))
	}
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return string(s[:])
}
