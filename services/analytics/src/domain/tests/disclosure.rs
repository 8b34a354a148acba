//! Unit tests of `disclosure.rs`.

use super::*;

#[test]
fn small_counts_are_hidden_and_zeros_shown() {
    let mut d = Disclosure::new(5);
    assert_eq!(d.count("a", 0), Some(0));
    assert_eq!(d.count("b", 4), None);
    assert_eq!(d.count("c", 5), Some(5));
    assert_eq!(d.suppressed, ["b"]);
}

#[test]
fn a_small_complement_hides_the_subset() {
    let mut d = Disclosure::new(5);
    let vetted = d.count("vetted", 20);
    assert_eq!(vetted, Some(20));
    assert_eq!(d.subset("within", 18, 20, "vetted"), None);
    assert_eq!(d.subset("info", 10, 20, "vetted"), Some(10));
}

#[test]
fn one_hidden_part_takes_the_next_smallest_with_it() {
    let mut d = Disclosure::new(5);
    d.count("vetted", 20);
    let parts = vec![
        ("accept".to_owned(), 9),
        ("decline".to_owned(), 3),
        ("physio".to_owned(), 8),
        ("redirect".to_owned(), 0),
    ];
    assert_eq!(d.parts("vetted", &parts), [Some(9), None, None, Some(0)]);
}
