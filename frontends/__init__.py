"""snnc.frontends: snnc checkpoints, released ASA-SNN checkpoints and NIR files -> the snnc IR."""
