//! Azure's own security-domain formats, byte-compatible with Azure's tools:
//! the SD file and its encrypted secrets, the download (activation) request,
//! the exchange key response, the restore blob, and rebuilding the master key
//! from a quorum of shares.

pub mod activation;
pub mod download_request;
pub mod enc_data;
pub mod quorum;
pub mod restore_blob;
pub mod sd_file;
pub mod transfer_key;
