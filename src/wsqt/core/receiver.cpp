#include "receiver.h"
