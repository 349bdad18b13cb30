"""The run directory: its format, its writer and its reader, in one package that owns them.

Training writes run directories; everything else (the catalog, the re-run, resume, the
report, the exporters) reads them through ``reader``. Nothing outside this package names a
file of a run directory.

* ``layout``: the files, the statuses and what they mean, the summary's schema and format version
* ``metrics_csv``: ``metrics.csv``, written in whole lines chunk by chunk, read by its header
* ``writer``: a population's run directories as it trains; failures; ``params.npz``
* ``reader``: find runs, read one, its status now, whether it is complete (for resume)
* ``block_yaml``: Hydra's block-style config files, read fast (the YAML library for anything else)
* ``claim``: a sweep directory claimed by the sweep writing into it
* ``place``: never the working directory itself; ``signals``: held while files are written
* ``files``: small files written whole, without a buffered file object (thousands a sweep)
"""
