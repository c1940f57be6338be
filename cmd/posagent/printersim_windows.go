package main

import "os"

// Windows has no user signals: faults go through the control socket only.
var simFaultSignals []os.Signal
