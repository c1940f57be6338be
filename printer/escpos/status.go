package escpos

import "fmt"

// StatusKind selects what DLE EOT asks for.
type StatusKind byte

const (
	StatusPrinter StatusKind = 1 // online/offline, drawer, FEED button
	StatusOffline StatusKind = 2 // why offline: cover, feeding, paper end, error
	StatusError   StatusKind = 3 // cutter, unrecoverable, auto-recoverable errors
	StatusPaper   StatusKind = 4 // roll paper near end / end
)

// RealTimeStatus is DLE EOT n. The printer answers one byte at once, even
// offline or with a full buffer; never put it inside another command's data.
func (b *Builder) RealTimeStatus(n StatusKind) {
	if n < StatusPrinter || n > StatusPaper {
		panic(fmt.Sprintf("escpos: DLE EOT %d outside 1–4", n))
	}
	b.buf = append(b.buf, DLE, EOT, byte(n))
}

// TransmitKind selects what GS r reports.
type TransmitKind byte

const (
	TransmitPaper  TransmitKind = 1
	TransmitDrawer TransmitKind = 2
)

// TransmitStatus is GS r n. Unlike DLE EOT it runs in sequence, after the data
// before it has been processed, so at the end of a job its answer marks the
// job as done.
func (b *Builder) TransmitStatus(n TransmitKind) {
	if n != TransmitPaper && n != TransmitDrawer {
		panic(fmt.Sprintf("escpos: GS r %d is not 1 or 2", n))
	}
	b.buf = append(b.buf, GS, 'r', byte(n))
}
