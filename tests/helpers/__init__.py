"""What the tests (and the benchmarks) share beyond fixtures: real audio, real servers, real peers.

One module per kind of help, imported as ``tests.helpers.<module>`` (pytest puts the repo root on the path):
audio_fixtures and render_harness (encoded albums, PulseAudio, rendering and comparing), chunk_data and
store_harness (cache chunks and stores), offline_harness and throttled_link (downloads, a slow TCP link),
server_sources, own_server, playlist_server, playlist_peers, loro_blobs and hostile_shapes (servers of a test's
own, playlist devices, crafted CRDT updates), bus_peer and held_audio (a D-Bus peer, audio that waits on cue).
"""
