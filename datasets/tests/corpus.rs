//! Corpus readers on files: the real corpora in the shared data directory (skipped with a
//! note when absent), every class of bad input as an error naming the file and line, the
//! same from gzip files, vocabularies, and `write_uci` -> `read_corpus` round trips.

use std::io::Write;
use std::path::{Path, PathBuf};

use gasket_datasets::{
    Corpus, CorpusFormat, DatasetError, LdaCorpusConfig, TextOptions, lda_corpus, read_corpus,
    read_vocab, write_uci,
};

/// The shared data directory, or `None` (with a note) when `file` is not in it.
fn shared(file: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/datasets")
        .join(file);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("note: {} is absent; skipping", path.display());
        None
    }
}

fn no_text() -> TextOptions {
    TextOptions::default()
}

#[test]
fn kos_uci() {
    let Some(kos) = shared("docword.kos.txt.gz") else {
        return;
    };
    assert_eq!(CorpusFormat::detect(&kos), CorpusFormat::Uci);
    let c = read_corpus(&kos, CorpusFormat::Uci, None, &no_text()).unwrap();
    assert_eq!(
        (c.num_docs(), c.num_words, c.num_tokens()),
        (3430, 6906, 467_714)
    );
    assert_eq!(c.docs.iter().map(Vec::len).sum::<usize>(), 353_160);
    // Round trip through a gzip file.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("docword.kos-copy.txt.gz");
    write_uci(&c, &out).unwrap();
    assert_eq!(
        read_corpus(&out, CorpusFormat::Uci, None, &no_text()).unwrap(),
        c
    );
}

#[test]
fn reuters_ldac_with_vocabulary() {
    let (Some(ldac), Some(tokens)) = (shared("reuters.ldac"), shared("reuters.tokens")) else {
        return;
    };
    assert_eq!(CorpusFormat::detect(&ldac), CorpusFormat::Ldac);
    let c = read_corpus(&ldac, CorpusFormat::Ldac, Some(&tokens), &no_text()).unwrap();
    assert_eq!(
        (c.num_docs(), c.num_words, c.num_tokens()),
        (395, 4258, 84_010)
    );
    let vocab = c.vocab.as_ref().unwrap();
    assert_eq!(vocab.len(), 4258);
    assert_eq!(c.word_name(0), vocab[0]);
    assert_eq!(read_vocab(&tokens).unwrap(), *vocab);
}

#[test]
fn yahoo_text_skipping_url_and_category() {
    let Some(ydir) = shared("ydir_1k.txt.gz") else {
        return;
    };
    assert_eq!(CorpusFormat::detect(&ydir), CorpusFormat::Text);
    let opts = TextOptions {
        skip_fields: 2,
        ..TextOptions::default()
    };
    let c = read_corpus(&ydir, CorpusFormat::Text, None, &opts).unwrap();
    assert_eq!(c.num_docs(), 1000);
    assert!(
        c.num_words > 1000 && c.num_tokens() > 10_000,
        "{} words, {} tokens",
        c.num_words,
        c.num_tokens()
    );
    // The URL and the category are skipped: the first word is the text's first.
    assert_eq!(c.word_name(0), "teddy");
    assert_eq!(c.word_name(1), "bears");
    // min_count shrinks the vocabulary, keeping first-appearance order and the docs.
    let pruned = read_corpus(
        &ydir,
        CorpusFormat::Text,
        None,
        &TextOptions {
            min_count: 5,
            ..opts
        },
    )
    .unwrap();
    assert_eq!(pruned.num_docs(), 1000);
    assert!(pruned.num_words < c.num_words);
    let full = c.vocab.unwrap();
    let kept: Vec<&String> = pruned.vocab.as_ref().unwrap().iter().collect();
    let order: Vec<usize> = kept
        .iter()
        .map(|w| full.iter().position(|f| f == *w).unwrap())
        .collect();
    assert!(order.windows(2).all(|p| p[0] < p[1]));
}

/// Writes `text` to `dir/name`, plain, and to `dir/name.gz`, gzipped.
fn write_both(dir: &Path, name: &str, text: &str) -> [PathBuf; 2] {
    let plain = dir.join(name);
    std::fs::write(&plain, text).unwrap();
    let gz = dir.join(format!("{name}.gz"));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    [plain, gz]
}

/// The error of reading `text` as `name` (plain and gzip must fail alike); the message
/// must contain `name:line` (or `name` when `line` is 0) and `needle`.
fn fails(name: &str, text: &str, vocab: Option<&Path>, line: u64, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut messages = Vec::new();
    for path in write_both(dir.path(), name, text) {
        let format = CorpusFormat::detect(&path);
        let e = read_corpus(&path, format, vocab, &no_text()).unwrap_err();
        if line > 0 {
            assert!(
                matches!(&e, DatasetError::Parse { line: l, .. } if *l == line),
                "{name} {text:?}: expected a parse error at line {line}, got {e}"
            );
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let msg = e.to_string();
        let at = if line > 0 {
            format!("{file}:{line}:")
        } else {
            file.clone()
        };
        assert!(msg.contains(&at), "{text:?}: `{at}` not in {msg}");
        assert!(msg.contains(needle), "{text:?}: `{needle}` not in {msg}");
        assert!(!msg.contains("panicked"));
        messages.push(msg.replace(&file, "FILE"));
    }
    let plain_name = name.to_string();
    assert_eq!(
        messages[0].replace(&plain_name, "FILE"),
        messages[1].replace(&plain_name, "FILE"),
        "plain and gzip differ"
    );
}

#[test]
fn bad_uci_input_names_file_and_line() {
    let d = "docword.bad.txt";
    fails(
        d,
        "2\nx\n2\n1 1 1\n2 1 1\n",
        None,
        2,
        "expected a header value",
    );
    fails(d, "2\n3\n0\n", None, 3, "NNZ (entries) must be positive");
    fails(
        d,
        "0\n3\n1\n1 1 1\n",
        None,
        1,
        "D (documents) must be positive",
    );
    fails(d, "2\n3 4\n1\n1 1 1\n", None, 2, "one positive integer");
    fails(
        d,
        "2\n3\n3\n1 1 2\n2 3 1\n",
        None,
        5,
        "NNZ = 3 entries but the body ends after 2",
    );
    fails(
        d,
        "2\n3\n1\n1 1 2\n2 3 1\n",
        None,
        5,
        "NNZ = 1 entries but the body has 2",
    );
    fails(
        d,
        "2\n3\n2\n3 1 2\n2 3 1\n",
        None,
        4,
        "document id 3 is outside 1..=2",
    );
    fails(
        d,
        "2\n3\n2\n1 1 2\n2 4 1\n",
        None,
        5,
        "word id 4 is outside 1..=3",
    );
    fails(d, "2\n3\n2\n1 1 0\n2 3 1\n", None, 4, "count 0");
    fails(
        d,
        "2\n3\n2\n1 1 -1\n2 3 1\n",
        None,
        4,
        "count `-1` is not a positive",
    );
    fails(
        d,
        "2\n3\n2\n1 1 1.5\n2 3 1\n",
        None,
        4,
        "count `1.5` is not a positive",
    );
    fails(
        d,
        "2\n3\n3\n1 1 2\n2 3 1\n1 1 4\n",
        None,
        6,
        "document 1 lists word 1 twice",
    );
    fails(d, "2\n3\n", None, 0, "before the header line NNZ");
}

#[test]
fn bad_ldac_input_names_file_and_line() {
    let l = "bad.ldac";
    fails(
        l,
        "1 0:1\n2 0:1\n",
        None,
        2,
        "the line says 2 pairs but lists 1",
    );
    fails(l, "1 0:1\n1 0=1\n", None, 2, "expected `word:count`");
    fails(l, "1 0:1\n1 0:0\n", None, 2, "count 0");
    fails(l, "1 0:1\n1 0:-4\n", None, 2, "count `-4`");
    fails(l, "1 0:1\n2 3:1 3:2\n", None, 2, "word 3 appears twice");
    fails(l, "0\n\n0\n", None, 0, "contains no tokens");
}

#[test]
fn vocabularies_are_checked_against_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let vocab = dir.path().join("vocab.v.txt");
    std::fs::write(&vocab, "alpha\nbeta\n gamma \n").unwrap();
    assert_eq!(read_vocab(&vocab).unwrap(), ["alpha", "beta", "gamma"]);

    // UCI: W must equal the vocabulary's length; the header line W is blamed.
    fails(
        "docword.v.txt",
        "1\n4\n1\n1 1 1\n",
        Some(&vocab),
        2,
        "vocab.v.txt has 3",
    );
    let uci = dir.path().join("docword.v.txt");
    std::fs::write(&uci, "1\n3\n1\n1 3 2\n").unwrap();
    let c = read_corpus(&uci, CorpusFormat::Uci, Some(&vocab), &no_text()).unwrap();
    assert_eq!(c.word_name(2), "gamma");

    // LDA-C: ids must be below the vocabulary's length, which becomes V.
    fails(
        "v.ldac",
        "1 0:1\n1 3:1\n",
        Some(&vocab),
        2,
        "outside the vocabulary",
    );
    let ldac = dir.path().join("v.ldac");
    std::fs::write(&ldac, "1 0:2\n").unwrap();
    let c = read_corpus(&ldac, CorpusFormat::Ldac, Some(&vocab), &no_text()).unwrap();
    assert_eq!((c.num_words, c.word_name(0).as_str()), (3, "alpha"));

    // Text makes its own vocabulary.
    let text = dir.path().join("t.txt");
    std::fs::write(&text, "a b\n").unwrap();
    let e = read_corpus(&text, CorpusFormat::Text, Some(&vocab), &no_text()).unwrap_err();
    assert!(e.to_string().contains("vocab.v.txt"), "{e}");

    // An empty line in a vocabulary.
    let broken = dir.path().join("vocab.broken.txt");
    std::fs::write(&broken, "a\nb\n\nc\n").unwrap();
    let e = read_vocab(&broken).unwrap_err().to_string();
    assert!(e.contains("vocab.broken.txt:3: empty line"), "{e}");
    let e = read_corpus(&uci, CorpusFormat::Uci, Some(&broken), &no_text()).unwrap_err();
    assert!(e.to_string().contains("vocab.broken.txt:3"), "{e}");
}

#[test]
fn missing_and_broken_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("docword.none.txt");
    let e = read_corpus(&missing, CorpusFormat::Uci, None, &no_text()).unwrap_err();
    assert!(matches!(e, DatasetError::Io { .. }), "{e}");
    assert!(e.to_string().contains("docword.none.txt"), "{e}");
    let fake_gz = dir.path().join("c.ldac.gz");
    std::fs::write(&fake_gz, "1 0:1\n").unwrap();
    let e = read_corpus(&fake_gz, CorpusFormat::Ldac, None, &no_text()).unwrap_err();
    assert!(matches!(e, DatasetError::Gzip { .. }), "{e}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n \n").unwrap();
    let e = read_corpus(&empty, CorpusFormat::Text, None, &no_text()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{} contains no tokens", empty.display())
    );
}

#[test]
fn written_uci_files_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let synthetic = lda_corpus(&LdaCorpusConfig {
        docs: 300,
        words: 500,
        topics: 10,
        doc_length: 60,
        alpha: 0.1,
        beta: 0.05,
        seed: 5,
    })
    .unwrap()
    .corpus;
    let with_empty = Corpus {
        docs: vec![vec![], vec![(0, 3), (4, 1)], vec![], vec![]],
        num_words: 6,
        vocab: None,
    };
    for corpus in [synthetic, with_empty] {
        for name in ["docword.out.txt", "docword.out.txt.gz"] {
            let path = dir.path().join(name);
            write_uci(&corpus, &path).unwrap();
            let back = read_corpus(&path, CorpusFormat::detect(&path), None, &no_text()).unwrap();
            assert_eq!(back, corpus, "{name}");
        }
    }
    // Only the finished files are left: the temporary names were renamed.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["docword.out.txt", "docword.out.txt.gz"]);
}
