#include "handshake.h"
