"""The case families, numbered as in the Autobahn TestSuite."""

from . import close, compression, fragmentation, framing, limits, misc, opcodes, pings, reserved_bits, utf8

# family number: (title, function returning its cases)
FAMILIES = {
    1: ("Framing", framing.cases),
    2: ("Pings/Pongs", pings.cases),
    3: ("Reserved Bits", reserved_bits.cases),
    4: ("Opcodes", opcodes.cases),
    5: ("Fragmentation", fragmentation.cases),
    6: ("UTF-8 Handling", utf8.cases),
    7: ("Close Handling", close.cases),
    9: ("Limits/Performance", limits.cases),
    10: ("Misc", misc.cases),
    12: ("WebSocket Compression (data sets)", compression.family12),
    13: ("WebSocket Compression (parameters)", compression.family13),
}
