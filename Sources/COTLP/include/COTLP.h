// Umbrella header of the COTLP module: the generated OTLP messages and our wire helpers.
#include "cotlp_generated.h"
#include "spindle_wire.h"
