#include "sender.h"
