package printer

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The spooler's functions are not in x/sys/windows: they are called from
// winspool.drv directly, as the Windows SDK's own RAW printing sample does.
var (
	winspool             = windows.NewLazySystemDLL("winspool.drv")
	procOpenPrinterW     = winspool.NewProc("OpenPrinterW")
	procClosePrinter     = winspool.NewProc("ClosePrinter")
	procGetPrinterW      = winspool.NewProc("GetPrinterW")
	procStartDocPrinterW = winspool.NewProc("StartDocPrinterW")
	procStartPagePrinter = winspool.NewProc("StartPagePrinter")
	procWritePrinter     = winspool.NewProc("WritePrinter")
	procEndPagePrinter   = winspool.NewProc("EndPagePrinter")
	procEndDocPrinter    = winspool.NewProc("EndDocPrinter")
	procAbortPrinter     = winspool.NewProc("AbortPrinter")
	procGetJobW          = winspool.NewProc("GetJobW")
	procSetJobW          = winspool.NewProc("SetJobW")
)

// docInfo1 is DOC_INFO_1W.
type docInfo1 struct {
	docName, outputFile, datatype *uint16
}

// jobInfo1 is JOB_INFO_1W.
type jobInfo1 struct {
	jobID                                                          uint32
	printerName, machineName, userName, document, datatype, status *uint16
	statusFlags                                                    uint32
	priority, position, totalPages, pagesPrinted                   uint32
	submitted                                                      windows.Systemtime
}

const jobControlDelete = 5 // JOB_CONTROL_DELETE

type winSpooler struct{}

func systemSpooler() spooler { return winSpooler{} }

func (winSpooler) Open(name string) (spoolHandle, error) {
	if err := winspool.Load(); err != nil {
		return nil, fmt.Errorf("load winspool.drv: %w", err)
	}
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	var h windows.Handle
	if r, _, err := procOpenPrinterW.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&h)), 0); r == 0 {
		return nil, callErr("OpenPrinter", err)
	}
	return &winPrinter{h: h}, nil
}

// callErr is the error behind a failed winspool call (its GetLastError).
func callErr(fn string, err error) error {
	var errno windows.Errno
	if errors.As(err, &errno) && errno != 0 {
		return fmt.Errorf("%s: %w", fn, errno)
	}
	return fmt.Errorf("%s failed", fn)
}

type winPrinter struct{ h windows.Handle }

func (p *winPrinter) call(fn string, proc *windows.LazyProc, args ...uintptr) error {
	if r, _, err := proc.Call(append([]uintptr{uintptr(p.h)}, args...)...); r == 0 {
		return callErr(fn, err)
	}
	return nil
}

func (p *winPrinter) Status() (uint32, error) {
	var info struct{ status uint32 } // PRINTER_INFO_6
	var needed uint32
	err := p.call("GetPrinter", procGetPrinterW, 6, uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info), uintptr(unsafe.Pointer(&needed)))
	return info.status, err
}

func (p *winPrinter) StartDoc(docName string) (uint32, error) {
	name, err := windows.UTF16PtrFromString(docName)
	if err != nil {
		return 0, err
	}
	raw, _ := windows.UTF16PtrFromString("RAW")
	di := docInfo1{docName: name, datatype: raw}
	r, _, err := procStartDocPrinterW.Call(uintptr(p.h), 1, uintptr(unsafe.Pointer(&di)))
	if r == 0 {
		return 0, callErr("StartDocPrinter", err)
	}
	return uint32(r), nil
}

func (p *winPrinter) StartPage() error { return p.call("StartPagePrinter", procStartPagePrinter) }

func (p *winPrinter) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var written uint32
	err := p.call("WritePrinter", procWritePrinter, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&written)))
	return int(written), err
}

func (p *winPrinter) EndPage() error { return p.call("EndPagePrinter", procEndPagePrinter) }
func (p *winPrinter) EndDoc() error  { return p.call("EndDocPrinter", procEndDocPrinter) }
func (p *winPrinter) Abort() error   { return p.call("AbortPrinter", procAbortPrinter) }

func (p *winPrinter) Job(id uint32) (uint32, bool, error) {
	// JOB_INFO_1W's strings follow it in the same buffer.
	buf := make([]byte, 4096)
	var needed uint32
	err := p.call("GetJob", procGetJobW, uintptr(id), 1, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(unsafe.Pointer(&needed)))
	if errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) && needed > uint32(len(buf)) {
		buf = make([]byte, needed)
		err = p.call("GetJob", procGetJobW, uintptr(id), 1, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(unsafe.Pointer(&needed)))
	}
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		return 0, true, nil // no such job any more: printed and removed
	}
	if err != nil {
		return 0, false, err
	}
	info := (*jobInfo1)(unsafe.Pointer(&buf[0]))
	return info.statusFlags, false, nil
}

func (p *winPrinter) Delete(id uint32) error {
	return p.call("SetJob", procSetJobW, uintptr(id), 0, 0, jobControlDelete)
}

func (p *winPrinter) Close() error { return p.call("ClosePrinter", procClosePrinter) }
