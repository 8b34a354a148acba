//! Compiles `pathway/v1/*.proto` to Rust with protox (a pure-Rust protobuf
//! compiler), so no `protoc` binary is needed on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "pathway/v1/events.proto",
        "pathway/v1/appointments.proto",
        "pathway/v1/lookup.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
