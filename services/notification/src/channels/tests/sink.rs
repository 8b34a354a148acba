//! Unit tests of `sink.rs`.

use pathway_common::pii::Pii;

use super::*;
use crate::domain::ChannelKind;

#[tokio::test]
async fn a_message_becomes_a_file_a_user_can_open_and_is_found_again() {
    let dir = tempfile::tempdir().expect("a folder");
    let sink = Sink::new(dir.path().to_path_buf());
    let message = Message {
        reference: "0190f7a0-0000-7000-8000-000000000001".into(),
        referral_id: "0190f7a0-0000-7000-8000-000000000000".into(),
        board: "highland".into(),
        channel: ChannelKind::Sms,
        address: Address::Mobile(Pii::new("07700900123".into())),
        subject: "Your referral to the pain clinic".into(),
        body: "Dear Morag, ...".into(),
        document: None,
    };
    assert_eq!(sink.lookup(&message).await.expect("a look-up"), None);
    let receipt = sink.send(&message).await.expect("written");
    let text = std::fs::read_to_string(&receipt.gateway_id).expect("readable");
    assert!(text.contains("To: 07700900123"));
    assert!(text.contains("Dear Morag"));
    assert!(receipt.gateway_id.ends_with(".sms.txt"));
    assert_eq!(
        sink.lookup(&message).await.expect("a look-up"),
        Some(receipt)
    );
    // A board code cannot climb out of the folder.
    let sly = Message {
        board: "../../etc".into(),
        ..message
    };
    let receipt = sink.send(&sly).await.expect("written");
    assert!(std::path::Path::new(&receipt.gateway_id).starts_with(dir.path()));
}

/// The mode bits of `path` that say who may read, write or enter it.
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("there").permissions().mode() & 0o777
}

#[tokio::test]
async fn files_and_folders_are_the_service_users_only_whatever_the_umask() {
    use nix::sys::stat::{Mode, umask};
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().join("outbox-messages");
    // A board folder an earlier version left readable by everyone.
    std::fs::create_dir_all(root.join("highland")).expect("made");
    std::fs::set_permissions(
        root.join("highland"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("loosened");
    let sink = Sink::new(root.clone());
    let message = Message {
        reference: "0190f7a0-0000-7000-8000-000000000002".into(),
        referral_id: "0190f7a0-0000-7000-8000-000000000000".into(),
        board: "highland".into(),
        channel: ChannelKind::Letter,
        address: Address::Mobile(Pii::new("07700900123".into())),
        subject: "Your referral".into(),
        body: "Dear Morag, ...".into(),
        document: None,
    };
    // Everything allowed by the umask: only the sink's own modes hold.
    let before = umask(Mode::empty());
    let sent = sink.send(&message).await;
    umask(before);
    let receipt = sent.expect("written");
    let file = std::path::PathBuf::from(&receipt.gateway_id);
    assert_eq!(mode(&file), 0o600, "{}", file.display());
    let referral = file.parent().expect("the referral's folder");
    let board = referral.parent().expect("the board's folder");
    for folder in [referral, board, root.as_path()] {
        assert_eq!(mode(folder), 0o700, "{}", folder.display());
    }
    assert!(
        std::fs::read_dir(referral)
            .expect("listed")
            .all(|entry| !entry.expect("an entry").path().ends_with(".partial")),
        "no partial file is left"
    );
}
