#include "subprotocol.h"
