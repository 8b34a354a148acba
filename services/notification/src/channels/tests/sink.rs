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
