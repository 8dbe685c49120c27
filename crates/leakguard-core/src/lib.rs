//! leakguard-core: parsing and analysis of V8 heap snapshots, with no Node-API types.
