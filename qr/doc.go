// Package qr builds and reads the MOF payloads of the 電子發票證明聯: the
// 19-character Code 39 text (PosBarCode), the texts of the left and right QR
// codes (QRCode_Left, QRCode_Right) with their AES verification field, and the
// seed-password → key derivation of the MOF key tool. It knows nothing of how
// a symbol becomes dots; the printer draws the texts.
//
// # The texts
//
// The left code starts with a 77-character head: invoice number, ROC date
// yyyMMdd (Asia/Taipei), random code, sales amount and total as 8 lowercase hex
// digits, buyer tax id (00000000 for a consumer), seller tax id and the
// 24-character verification field (AES-128-CBC of number and random code, see
// Key.Verification). Then, each after ':', field 9 (seller area, default
// **********), field 10 (items recorded in both codes), field 11 (item lines on
// the invoice) and field 12 (encoding: 0 Big5, 1 UTF-8, 2 Base64), then the
// items as name:quantity:unit price. Quantities and prices are written exactly
// (posagent.Decimal.String); a ':' in a name becomes '：'; in Big5 mode a
// character Big5 lacks becomes '？', so nothing is lost silently.
//
// The right code starts with ** and continues the left: left + right[2:] is the
// whole text. In Big5 and UTF-8 modes the cut falls between items, the left
// keeping the ':' after its last whole item; in Base64 mode the item text is
// encoded once and the Base64 cut at a multiple of 4 characters, so each half
// decodes on its own. A right code with nothing to continue is just ** and the
// left then ends without ':'.
//
// # Version and item rule
//
// Both symbols are drawn at one version, Codes.Version, with error correction
// L. Capacities are those of byte mode (Capacity), which no encoder needs more
// room than. Encode takes the smallest version from 6 to Options.MaxVersion
// (default 9, the largest a 58 mm printer draws at 3 dots a module) at which
// both texts fit. If they do not fit even at MaxVersion, items are dropped from
// the end and field 10 lowered, until they fit: the codes record the longest
// run of leading items that fits, and Codes.ItemsRecorded says how many. An
// item too long for either code alone ends the run; items are never shortened.
//
// At the chosen version the left takes the fewest leading items (Base64:
// characters) that make it need that version by itself, the right the rest;
// when no split does that, the left takes all it can. So the left reaches the
// version MOF requires of it (6 or more) even for a printer that sizes each
// symbol from its data in byte mode, and Options.PadRight pads the right with
// spaces until such a printer draws it at the left's version too. This
// reproduces the MOF worked example (one item left, two right) in all three
// encodings.
//
// # Printers that pick the version
//
// A printer's encoder may also pack digits and spaces into numeric and
// alphanumeric segments, and then draws smaller symbols: the worked example's
// left at version 5. Predict gives a text's version under both models, one
// byte segment and the optimal mixed split, which bound every such encoder;
// PadRight pads the right until both models give it the left's version when
// spaces can, and Codes.NativeSafe reports whether every encoder then draws
// both codes at Codes.Version. When it does not, draw the codes on the host.
//
// # Decoding
//
// Decode reads texts back into Fields, strictly: every malformed field is an
// error naming the field and the rule. Fields.Verify checks the verification
// field against a key.
package qr
