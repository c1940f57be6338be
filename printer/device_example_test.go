package printer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/printersim"
)

// A printer simulator stands in for a serial printer: print one job, then
// run out of paper.
func ExampleNewDevice() {
	dir, _ := os.MkdirTemp("", "printer-example")
	defer os.RemoveAll(dir)
	sim, err := printersim.Start(printersim.Options{Dir: dir, Baud: 115200})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	dev, err := printer.NewDevice(printer.DeviceConfig{Address: sim.Path(), Baud: 115200})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()
	ctx := context.Background()
	job := []byte("\x1b@\x1c&Hello\n\x1dVB\x00")

	out := dev.Print(ctx, job)
	fmt.Println(out.Printed, out.Reason == "", filepath.Base(sim.Jobs()[0].PNGPath))

	sim.SetPaperOut(true)
	st, _ := dev.Status(ctx)
	fmt.Println(st)
	out = dev.Print(ctx, job)
	fmt.Println(out.Printed, out.Reason, out.MayHaveReachedPaper)
	// Output:
	// true true 0001.png
	// paper out
	// false paper out false
}
