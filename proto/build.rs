//! Compiles `pathway/v1/*.proto` to Rust with protox (a pure-Rust protobuf
//! compiler), so no `protoc` binary is needed on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "pathway/v1/events.proto",
        "pathway/v1/appointments.proto",
        "pathway/v1/lookup.proto",
        "pathway/v1/clinical_text.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    // The descriptors themselves, for the contract test that walks every
    // event payload's fields (`src/tests/free_text.rs`).
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("pathway_v1_descriptors.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
