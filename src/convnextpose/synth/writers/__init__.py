"""Writers of the five benchmarks' on-disk formats (DATA_FORMATS.md): Human3.6M, MuCo-3DHP and MuPoTS-3D, MPII and
MS COCO. Each takes either body back-end and renders through :func:`~convnextpose.synth.render.render_frame`."""
