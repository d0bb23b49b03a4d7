"""A WebSocket peer in the manner of the Autobahn TestSuite: it drives a
program under test through scripted cases over a raw socket and judges each
one by the events it receives and by how the connection ends."""
