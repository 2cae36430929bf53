"""The performance harness: seeds casehub, serves it and a hand-written floor, drives both with
concurrent keep-alive clients and prints what casehub reaches of the floor. `make bench`."""
