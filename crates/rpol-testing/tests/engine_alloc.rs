//! A single feature or source check on a prepared request allocates nothing.

mod common;

#[test]
fn single_checks_do_not_allocate() {
    for dir in ["policies/home", "policies/enterprise"] {
        let c = common::compiled(dir);
        let req = c
            .parse_request(r#"{"tenant":"acme","surface":"home","purpose":"training","subject":{"user_id":"u"},"consent":{"personalization":"granted"},"context":{"region":"EU"}}"#)
            .or_else(|_| c.parse_request(r#"{"tenant":"acme","surface":"search","purpose":"search_ranking","subject":{"user_id":"u"},"consent":{"workspace_activity":"granted"},"context":{"plan":"business"}}"#))
            .expect("request");
        let p = c.prepare(&req);
        let features: Vec<_> = c.feature_ids().collect();
        let sources: Vec<_> = c.source_ids().collect();
        let info = allocation_counter::measure(|| {
            for _ in 0..100 {
                for &f in &features {
                    std::hint::black_box(c.check_feature(&p, f));
                }
                for &s in &sources {
                    std::hint::black_box(c.check_source(&p, s));
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
