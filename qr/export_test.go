package qr

import (
	"encoding/base64"
	"strings"
)

// EncodeWithVerification builds the codes with a given verification field: the
// MOF worked example's key is not published, so its texts can only be checked
// with its field fixed.
var EncodeWithVerification = encodeWithVerification

// Relayout writes decoded fields back as texts, every item and the remark on
// the left and a bare right: what the fuzz target re-decodes.
func Relayout(f Fields) (left, right string) {
	var b strings.Builder
	b.WriteString(f.head())
	f.writeExtension(&b, f.ItemsRecorded)
	parts := make([]string, 0, len(f.Items)+1)
	for _, it := range f.Items {
		parts = append(parts, it.triple())
	}
	if f.Remark != "" {
		parts = append(parts, f.Remark)
	}
	if len(parts) > 0 {
		text := strings.Join(parts, ":")
		if f.Encoding == Base64 {
			text = base64.StdEncoding.EncodeToString([]byte(text))
		}
		b.WriteByte(':')
		b.WriteString(text)
	}
	return b.String(), rightMark
}
