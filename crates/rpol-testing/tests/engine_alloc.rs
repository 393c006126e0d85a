//! A single feature or source check on a prepared request allocates nothing.

mod common;

use rpol_engine::{FeatureId, SourceId};

#[test]
fn single_checks_do_not_allocate() {
    for dir in ["policies/home", "policies/enterprise"] {
        let c = common::compiled(dir);
        let req = c
            .parse_request(r#"{"tenant":"acme","surface":"home","purpose":"training","subject":{"user_id":"u"},"consent":{"personalization":"granted"},"context":{"region":"EU"}}"#)
            .or_else(|_| c.parse_request(r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#))
            .expect("request");
        let p = c.prepare(&req);
        let nf = c.model().features.len() as u32;
        let ns = c.model().sources.len() as u32;
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                for f in 0..nf {
                    std::hint::black_box(c.check_feature(&p, FeatureId(f)));
                }
                for s in 0..ns {
                    std::hint::black_box(c.check_source(&p, SourceId(s)));
                }
            }
        });
        assert_eq!(
            info.count_total, 0,
            "{dir}: single checks allocated {} times",
            info.count_total
        );
    }
}
