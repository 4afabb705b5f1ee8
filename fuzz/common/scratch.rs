//! A scratch folder per fuzzing process, in memory (/dev/shm) where there is one: targets that
//! must go through files write there on every run.

use std::path::PathBuf;
use std::sync::OnceLock;

pub fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::var_os("KBUNDLE_FUZZ_SCRATCH")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let shm = PathBuf::from("/dev/shm");
                if shm.is_dir() {
                    shm
                } else {
                    std::env::temp_dir()
                }
            });
        let dir = base.join(format!("kbundle-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}
