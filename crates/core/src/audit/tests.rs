use chrono::TimeZone;
use serde_json::json;
use sm3::Digest;

use super::*;

fn key() -> AuditKey {
    AuditKey::parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
}

fn at(sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap() + chrono::Duration::seconds(sec.into())
}

fn new_entry(i: u32) -> NewAuditEntry {
    NewAuditEntry::new(
        at(i),
        "dispatcher",
        "case.dispatch",
        "case",
        format!("20261127{i:05}"),
        json!({"to": "230902001", "limit": {"days": 2}, "note": "积雪 \"清理\""}),
    )
    .unwrap()
}

fn chain(n: u32, key: &AuditKey) -> Vec<AuditEntry> {
    let mut head = Head::genesis();
    (1..=n)
        .map(|i| {
            let e = AuditEntry::seal(&head, new_entry(i), key);
            head = Head {
                seq: e.seq,
                mac: e.mac.clone(),
            };
            e
        })
        .collect()
}

fn verify(entries: &[AuditEntry], key: &AuditKey) -> Verdict {
    let mut v = Verifier::new(key);
    for e in entries {
        v.push(e);
    }
    v.finish()
}

#[test]
fn sm3_gives_the_gb_t_32905_vectors() {
    // GB/T 32905-2016 Appendix A, examples 1 and 2.
    assert_eq!(
        hex::encode(sm3::Sm3::digest(b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        hex::encode(sm3::Sm3::digest(b"abcd".repeat(16))),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

#[test]
fn hmac_sm3_agrees_with_openssl() {
    // Cross-checked with OpenSSL 3.0 (`openssl dgst -sm3 -mac HMAC -macopt hexkey:…`) and
    // Python's hmac over OpenSSL's sm3: RFC 4231 test case 1 and 6 inputs under SM3.
    let k = AuditKey::from_bytes(&[0x0b; 20]).unwrap();
    assert_eq!(
        hmac_sm3_hex(&k, b"Hi There"),
        "51b00d1fb49832bfb01c3ce27848e59f871d9ba938dc563b338ca964755cce70"
    );
    // A key longer than SM3's 64-byte block is hashed first.
    let long = AuditKey::from_bytes(&[0xaa; 131]).unwrap();
    assert_eq!(
        hmac_sm3_hex(&long, b"Test Using Larger Than Block-Size Key - Hash Key First"),
        "b4fd844e13342002f0b2e0690ea7741f1497d993a70494cea601e657bedf67a0"
    );
}

#[test]
fn keys_are_read_from_hex_or_base64_and_never_shown() {
    let hex_key = AuditKey::parse("hex:00112233445566778899aabbccddeeff\n").unwrap();
    let b64_key = AuditKey::parse("ABEiM0RVZneImaq7zN3u/w==").unwrap();
    assert_eq!(hex_key, b64_key);
    assert_eq!(AuditKey::parse("base64:ABEiM0RVZneImaq7zN3u/w==").unwrap(), hex_key);
    assert_eq!(format!("{hex_key:?}"), "AuditKey(***)");
    assert_eq!(
        AuditKey::parse("0011223344556677").unwrap_err(),
        AuditError::KeyTooShort { found: 8 }
    );
    assert_eq!(AuditKey::parse("not a key!").unwrap_err(), AuditError::KeyNotEncoded);
    assert_eq!(AuditKey::parse("").unwrap_err(), AuditError::KeyTooShort { found: 0 });
    let e = AuditKey::parse("00").unwrap_err();
    assert!(
        e.message(Lang::Zh).contains("至少需要16字节"),
        "{}",
        e.message(Lang::Zh)
    );
}

#[test]
fn actions_are_dotted_lowercase_words() {
    assert!(AuditAction::parse("territory.grid.import").is_ok());
    assert!(AuditAction::parse("case.dispatch").is_ok());
    for bad in [
        "",
        "case",
        "Case.Dispatch",
        "case..dispatch",
        "case.dispatch.",
        "案件.派遣",
        "case dispatch",
    ] {
        assert!(AuditAction::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(
        NewAuditEntry::new(at(0), " ", "case.dispatch", "case", "1", json!(null)).unwrap_err(),
        AuditError::NoActor
    );
}

#[test]
fn the_canonical_form_is_fixed() {
    let mut e = AuditEntry::seal(&Head::genesis(), new_entry(1), &key());
    e.at = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 1).unwrap() + chrono::Duration::nanoseconds(1_500);
    assert_eq!(
        e.canonical(),
        concat!(
            r#"{"action":"case.dispatch","actor":"dispatcher","at":"2026-11-27T08:00:01.000001Z","#,
            r#""detail":{"limit":{"days":2},"note":"积雪 \"清理\"","to":"230902001"},"#,
            r#""prev_mac":"0000000000000000000000000000000000000000000000000000000000000000","#,
            r#""seq":1,"subject_id":"2026112700001","subject_kind":"case"}"#
        )
    );
}

#[test]
fn key_order_of_the_detail_does_not_change_the_mac() {
    let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2.5], "x": null}}"#).unwrap();
    let b: Value = serde_json::from_str(r#"{"a": {"x": null, "y": [1, 2.5]}, "b": 1}"#).unwrap();
    assert_eq!(canonical_json(&a), r#"{"a":{"x":null,"y":[1,2.5]},"b":1}"#);
    assert_eq!(canonical_json(&a), canonical_json(&b));
    // Stored as canonical text and read back, a detail gives the same encoding again.
    let odd: Value = json!({"f": 0.1 + 0.2, "big": u64::MAX, "neg": -7, "tiny": 5e-324});
    let again: Value = serde_json::from_str(&canonical_json(&odd)).unwrap();
    assert_eq!(canonical_json(&again), canonical_json(&odd));
}

#[test]
fn sealing_keeps_microseconds_only() {
    let mut n = new_entry(1);
    n.at += chrono::Duration::nanoseconds(123_456_789);
    let e = AuditEntry::seal(&Head::genesis(), n, &key());
    assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_000);
    assert!(e.canonical().contains("08:00:01.123456Z"));
}

#[test]
fn an_untouched_chain_is_intact() {
    let entries = chain(5, &key());
    assert_eq!(entries[0].prev_mac, GENESIS_MAC);
    assert_eq!(entries[1].prev_mac, entries[0].mac);
    assert_eq!(
        verify(&entries, &key()),
        Verdict::Intact {
            entries: 5,
            head: entries[4].mac.clone()
        }
    );
    assert_eq!(
        verify(&[], &key()),
        Verdict::Intact {
            entries: 0,
            head: GENESIS_MAC.into()
        }
    );
}

#[test]
fn a_changed_field_breaks_the_chain_at_that_entry() {
    let good = chain(5, &key());
    let edits: Vec<fn(&mut AuditEntry)> = vec![
        |e| e.actor = "admin".into(),
        |e| e.action = "case.close".into(),
        |e| e.at += chrono::Duration::microseconds(1),
        |e| e.detail["limit"]["days"] = json!(3),
        |e| e.subject_id.push('9'),
        |e| e.subject_kind = "grid".into(),
    ];
    for edit in edits {
        let mut entries = good.clone();
        edit(&mut entries[2]);
        assert_eq!(
            verify(&entries, &key()),
            Verdict::Broken {
                broken_at: 3,
                reason: BrokenReason::MacMismatch
            }
        );
    }
}

#[test]
fn a_removed_or_reordered_entry_is_found() {
    let mut entries = chain(5, &key());
    entries.remove(1);
    assert_eq!(
        verify(&entries, &key()),
        Verdict::Broken {
            broken_at: 2,
            reason: BrokenReason::SeqGap { expected: 2, found: 3 }
        }
    );
    // Renumbering after a removal does not help: the next entry's prev_mac gives it away.
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
    }
    assert_eq!(
        verify(&entries, &key()),
        Verdict::Broken {
            broken_at: 2,
            reason: BrokenReason::PrevMacMismatch
        }
    );
}

#[test]
fn another_key_or_a_plain_hash_cannot_forge_an_entry() {
    let entries = chain(3, &key());
    let other = AuditKey::from_bytes(&[7; 32]).unwrap();
    assert_eq!(
        verify(&entries, &other),
        Verdict::Broken {
            broken_at: 1,
            reason: BrokenReason::MacMismatch
        }
    );
    // An attacker who can write the table changes entry 2 and recomputes "the hash" in every
    // way open to them without the key; the chain still breaks at 2.
    let mut forged = entries.clone();
    forged[1].actor = "nobody".into();
    let prev = hex::decode(&forged[1].prev_mac).unwrap();
    let plain = |data: &[u8]| hex::encode(sm3::Sm3::digest(data));
    for mac in [
        plain(&[prev.as_slice(), forged[1].canonical().as_bytes()].concat()),
        plain(forged[1].canonical().as_bytes()),
        hmac_sm3_hex(&other, &[prev.as_slice(), forged[1].canonical().as_bytes()].concat()),
    ] {
        forged[1].mac = mac;
        forged[2].prev_mac = forged[1].mac.clone();
        let v = verify(&forged, &key());
        assert_eq!(
            v,
            Verdict::Broken {
                broken_at: 2,
                reason: BrokenReason::MacMismatch
            }
        );
    }
}

#[test]
fn a_head_kept_elsewhere_shows_a_cut_off_end() {
    let k = key();
    let entries = chain(4, &k);
    let mut v = Verifier::new(&k);
    for e in &entries[..2] {
        v.push(e);
    }
    v.check_head(&Head {
        seq: 4,
        mac: entries[3].mac.clone(),
    });
    let verdict = v.finish();
    assert_eq!(
        verdict,
        Verdict::Broken {
            broken_at: 3,
            reason: BrokenReason::Truncated { last: 2, head: 4 }
        }
    );
    let Verdict::Broken { reason, .. } = verdict else {
        unreachable!()
    };
    assert_eq!(reason.message(Lang::Zh), "记录止于第2条，但链头为第4条：末尾记录被删除");
}

#[test]
fn the_verdict_serialises_as_the_api_says() {
    let intact = verify(&chain(2, &key()), &key());
    let j = serde_json::to_value(&intact).unwrap();
    assert_eq!(j["entries"], 2);
    assert_eq!(j["head"].as_str().unwrap().len(), 64);
}

fn stored(e: &AuditEntry) -> StoredEntry {
    StoredEntry {
        seq: e.seq,
        at: e.at,
        actor: e.actor.clone(),
        action: e.action.clone(),
        subject_kind: e.subject_kind.clone(),
        subject_id: e.subject_id.clone(),
        detail: canonical_json(&e.detail),
        prev_mac: e.prev_mac.clone(),
        mac: e.mac.clone(),
    }
}

#[test]
fn the_time_is_written_as_chrono_writes_it() {
    let base = Utc.with_ymd_and_hms(1999, 1, 2, 3, 4, 5).unwrap();
    for step in [0i64, 1, 999_999, 123_456_789, 86_399_999_999, 9_876_543_210_123] {
        let at = base + chrono::Duration::microseconds(step);
        let mut out = Vec::new();
        write_time(&mut out, &at).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), canonical_time(&at));
    }
    let far = Utc.with_ymd_and_hms(12026, 1, 1, 0, 0, 0).unwrap();
    let mut out = Vec::new();
    write_time(&mut out, &far).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), canonical_time(&far));
}

#[test]
fn a_stored_entry_verifies_from_its_text_as_the_parsed_entry_does() {
    let k = MacKey::new(&key());
    let entries = chain(3, &key());
    for e in &entries {
        assert_eq!(stored(e).check(&k), Ok(()));
    }
    // Stored with other spacing and key order: the same content, still genuine.
    let mut respaced = stored(&entries[1]);
    respaced.detail = r#"{ "to": "230902001", "note": "积雪 \"清理\"", "limit": {"days": 2} }"#.into();
    assert_eq!(respaced.check(&k), Ok(()));
    let mut changed = stored(&entries[1]);
    changed.detail = changed.detail.replace("\"days\":2", "\"days\":3");
    assert_eq!(changed.check(&k), Err(BrokenReason::MacMismatch));
    let mut garbled = stored(&entries[1]);
    garbled.detail = "{not json".into();
    assert!(matches!(garbled.check(&k), Err(BrokenReason::Malformed { detail }) if detail.starts_with("detail: ")));
    let mut short = stored(&entries[1]);
    short.mac.truncate(10);
    assert_eq!(
        short.check(&k),
        Err(BrokenReason::Malformed {
            detail: "mac is not 64 hex digits".into()
        })
    );
}

#[test]
fn checking_in_parallel_finds_the_same_first_break_as_one_by_one() {
    let k = key();
    let good: Vec<Read> = chain(5_000, &k).iter().map(stored).map(Ok).collect();
    for threads in [1, 2, 7] {
        let mut v = Verifier::new(&k);
        assert!(v.push_batch(&good[..2_500], threads));
        assert!(v.push_batch(&good[2_500..], threads));
        assert_eq!(v.checked(), 5_000);
        assert!(v.finish().is_intact());
    }
    let mut bad = good.clone();
    if let Ok(e) = &mut bad[3_000] {
        e.actor = "admin".into();
    }
    if let Ok(e) = &mut bad[4_000] {
        e.mac = "zz".into();
    }
    bad[4_500] = Err((4_501, "at: not a time".into()));
    for threads in [1, 3] {
        let mut v = Verifier::new(&k);
        assert!(!v.push_batch(&bad, threads));
        assert_eq!(
            v.finish(),
            Verdict::Broken {
                broken_at: 3_001,
                reason: BrokenReason::MacMismatch
            }
        );
    }
    let mut v = Verifier::new(&k);
    v.push_batch(&bad[4_200..], 2);
    assert_eq!(
        v.finish(),
        Verdict::Broken {
            broken_at: 1,
            reason: BrokenReason::SeqGap {
                expected: 1,
                found: 4_201
            }
        }
    );
}

#[test]
fn an_anchor_shows_a_cut_off_end_and_a_rewritten_entry() {
    let k = key();
    let entries = chain(6, &k);
    let anchor = Head {
        seq: 5,
        mac: entries[4].mac.clone(),
    };
    // Cut back to 3, as when the head row is rewritten to match: the chain alone is intact.
    assert!(verify(&entries[..3], &k).is_intact());
    let mut v = Verifier::anchored(&k, anchor.clone());
    entries[..3].iter().for_each(|e| {
        v.push(e);
    });
    v.check_anchor();
    let verdict = v.finish();
    assert_eq!(
        verdict,
        Verdict::Broken {
            broken_at: 4,
            reason: BrokenReason::BehindCheckpoint { last: 3, checkpoint: 5 }
        }
    );
    let Verdict::Broken { reason, .. } = verdict else {
        unreachable!()
    };
    assert_eq!(
        reason.message(Lang::Zh),
        "记录止于第3条，但检查点记至第5条：末尾记录被删除"
    );
    let empty = BrokenReason::BehindCheckpoint { last: 0, checkpoint: 5 };
    assert_eq!(empty.message(Lang::Zh), "审计记录为空，但检查点记至第5条：记录被删除");
    assert!(empty.message(Lang::En).starts_with("the record is empty"));

    // Rewritten by someone holding the key from entry 4 on: a valid chain, but not the one anchored.
    let mut rewritten = entries[..3].to_vec();
    let mut head = Head {
        seq: 3,
        mac: entries[2].mac.clone(),
    };
    for i in 4..=6 {
        let mut n = new_entry(i);
        n.actor = "admin".into();
        let e = AuditEntry::seal(&head, n, &k);
        head = Head {
            seq: e.seq,
            mac: e.mac.clone(),
        };
        rewritten.push(e);
    }
    assert!(verify(&rewritten, &k).is_intact());
    let mut v = Verifier::anchored(&k, anchor.clone());
    rewritten.iter().for_each(|e| {
        v.push(e);
    });
    assert_eq!(
        v.finish(),
        Verdict::Broken {
            broken_at: 5,
            reason: BrokenReason::CheckpointMismatch
        }
    );
    // Resumed at the anchor, only its own entry and what follows are checked.
    let mut v = Verifier::resume_at(&k, anchor.clone());
    rewritten[4..].iter().for_each(|e| {
        v.push(e);
    });
    assert_eq!(v.checked(), 0);
    assert!(matches!(
        v.finish(),
        Verdict::Broken {
            broken_at: 5,
            reason: BrokenReason::CheckpointMismatch
        }
    ));
    let mut v = Verifier::resume_at(&k, anchor);
    entries[4..].iter().for_each(|e| {
        v.push(e);
    });
    v.check_anchor();
    assert_eq!(v.checked(), 2);
    assert_eq!(
        v.finish(),
        Verdict::Intact {
            entries: 6,
            head: entries[5].mac.clone()
        }
    );
}
