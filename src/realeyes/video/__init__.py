"""Video: decoding and sampling, faces, per-frame evidence, aggregation and a timeline."""
