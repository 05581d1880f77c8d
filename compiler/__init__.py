"""snnc.compiler: the IR (NIR + extension nodes), passes, pipelines and fixed-point maths."""
