use std::sync::Arc;

use super::*;

#[test]
fn a_missing_key_is_created_private_and_read_back_the_same() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("secrets/signing.key");
    let key = load_or_create_key(&path).expect("a key is created");
    assert_eq!(key.len(), MIN_KEY_BYTES);
    assert_eq!(load_or_create_key(&path).expect("read back"), key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("the file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let others: Vec<_> = std::fs::read_dir(dir.path().join("secrets"))
        .expect("the directory")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(others.len(), 1, "no temporary file left: {others:?}");
}

#[test]
fn an_empty_or_short_key_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().expect("a directory");
    for (text, says) in [
        ("", "0 bytes"),
        ("\n", "0 bytes"),
        ("00112233", "4 bytes"),
        (&"ab".repeat(31), "31 bytes"),
        ("not hex at all", "not hex"),
    ] {
        let path = dir.path().join("key");
        std::fs::write(&path, text).expect("write");
        let error = format!("{:#}", load_or_create_key(&path).expect_err(text));
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(says), "{text:?}: {error}");
        // The file is left as it was: nothing is silently replaced.
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    }
    std::fs::write(dir.path().join("key"), "ab".repeat(32)).expect("write");
    assert_eq!(
        load_or_create_key(&dir.path().join("key")).expect("a 32-byte key"),
        vec![0xab; 32]
    );
}

#[test]
fn processes_starting_together_end_up_with_one_key() {
    let dir = Arc::new(tempfile::tempdir().expect("a directory"));
    let path = dir.path().join("pseudonym.key");
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || load_or_create_key(&path).expect("a key"))
        })
        .collect();
    let keys: Vec<Vec<u8>> = starts
        .into_iter()
        .map(|t| t.join().expect("a start"))
        .collect();
    assert!(keys.iter().all(|k| k == &keys[0]), "one key for all");
    assert_eq!(load_or_create_key(&path).expect("read back"), keys[0]);
}
