//! Three nodes from `deploy/nats/cluster-node.conf` route to each other
//! over TLS only, replicate the stream three ways and carry a request from
//! a service on one node to a service on another.

use std::time::Duration;

use pathway_common::bus;
use pathway_proto::rpc::REFERRAL_LOOKUP;
use pathway_proto::stream as names;
use pathway_tests::eventually;
use pathway_tests::locked_nats::Cluster;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Watched;

#[tokio::test]
async fn three_nodes_from_the_deploy_config_route_over_tls() {
    let cluster = Cluster::start();
    let http = reqwest::Client::new();

    // Each node has its routes to the two others.
    for (i, node) in cluster.nodes.iter().enumerate() {
        let routed = eventually(Duration::from_secs(30), || async {
            let routes: Value = http
                .get(format!("http://127.0.0.1:{}/routez", node.monitor_port))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let peers: std::collections::BTreeSet<String> = routes["routes"]
                .as_array()?
                .iter()
                .filter_map(|route| route["remote_name"].as_str().map(str::to_owned))
                .collect();
            (peers.len() == 2).then_some(())
        })
        .await;
        assert!(
            routed.is_some(),
            "node {} has no routes:\n{}",
            i + 1,
            cluster.log(i)
        );
    }

    // The route port speaks TLS only: it opens with the TLS handshake and
    // hangs up on a peer that speaks in clear.
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", cluster.nodes[0].route_port))
        .await
        .expect("the route port answers");
    let _ = socket.write_all(b"CONNECT {}\r\nPING\r\n").await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the route port kept a plain-text peer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        !answer.contains("INFO") && !answer.contains("PONG"),
        "the route port spoke in clear: {answer}"
    );

    // intake makes the streams with three replicas, once JetStream's
    // cluster has its leader.
    let intake = Watched::connect(&cluster.settings(0, "intake"), "intake").await;
    let jetstream = intake.jetstream();
    let created = eventually(Duration::from_secs(60), || async {
        bus::ensure_streams(&jetstream, 3).await.ok()
    })
    .await;
    assert!(created.is_some(), "no streams:\n{}", cluster.log(0));
    let info = jetstream
        .get_stream(names::NAME)
        .await
        .expect("the stream")
        .info()
        .await
        .expect("its info")
        .clone();
    assert_eq!(info.config.num_replicas, 3);
    let cluster_info = info.cluster.expect("a replicated stream names its cluster");
    assert_eq!(cluster_info.replicas.len(), 2, "{cluster_info:?}");

    // A request from vetting on the third node reaches intake on the first
    // and its answer comes back, across the routes.
    let mut requests = intake
        .client
        .queue_subscribe(REFERRAL_LOOKUP, "intake".into())
        .await
        .expect("intake answers the look-up");
    intake.client.flush().await.expect("flushed");
    let answering = intake.client.clone();
    tokio::spawn(async move {
        use futures::StreamExt as _;
        while let Some(request) = requests.next().await {
            if let Some(reply) = request.reply {
                let _ = answering.publish(reply, "answered".into()).await;
            }
        }
    });
    let vetting = Watched::connect(&cluster.settings(2, "vetting"), "vetting").await;
    assert!(vetting.connected().await);
    let answer = eventually(Duration::from_secs(10), || async {
        vetting
            .client
            .request(REFERRAL_LOOKUP, "{}".into())
            .await
            .ok()
    })
    .await
    .expect("intake's answer crossed the routes");
    assert_eq!(answer.payload.as_ref(), b"answered");
}
