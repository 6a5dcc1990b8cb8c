//! The deployed order-event fan-out, on moto: an SNS topic with one SQS queue per consumer,
//! subscribed with raw message delivery (as `template.yaml` declares them).

/// The topic and its queues.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// The SNS client.
    pub sns: aws_sdk_sns::Client,
    /// The SQS client.
    pub sqs: aws_sdk_sqs::Client,
    /// The topic's ARN.
    pub topic_arn: String,
    /// The topic's name.
    pub topic_name: String,
    /// One queue URL per consumer, in the order asked for.
    pub queues: Vec<String>,
}

impl FanOut {
    /// A fresh topic and one fresh queue per consumer name, each subscribed.
    pub async fn new(consumers: &[&str]) -> Self {
        assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "run through scripts/test.sh");
        let sdk = aws_config::load_from_env().await;
        let (sns, sqs) = (aws_sdk_sns::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
        let unique = ulid::Ulid::new();
        let topic_name = format!("order-events-{unique}");
        let topic = sns.create_topic().name(&topic_name).send().await.expect("topic");
        let mut fan_out = Self {
            topic_arn: topic.topic_arn().expect("arn").to_owned(),
            topic_name,
            queues: Vec::new(),
            sns,
            sqs,
        };
        for consumer in consumers {
            let created = fan_out
                .sqs
                .create_queue()
                .queue_name(format!("{consumer}-{unique}"))
                .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "180")
                .send()
                .await
                .expect("queue");
            fan_out.queues.push(created.queue_url().expect("url").to_owned());
        }
        fan_out.subscribe_all().await;
        fan_out
    }

    /// Subscribes every queue to the topic with raw message delivery.
    pub async fn subscribe_all(&self) {
        for url in &self.queues {
            let arn = self
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .expect("attributes")
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
                .expect("queue arn");
            self.sns
                .subscribe()
                .topic_arn(&self.topic_arn)
                .protocol("sqs")
                .endpoint(arn)
                .attributes("RawMessageDelivery", "true")
                .send()
                .await
                .expect("subscribed");
        }
    }

    /// The topic goes away (publishing fails until [`FanOut::restore`]).
    pub async fn delete_topic(&self) {
        self.sns.delete_topic().topic_arn(&self.topic_arn).send().await.expect("deleted");
    }

    /// The topic is back under its name (same ARN), its queues subscribed again.
    pub async fn restore(&self) {
        let topic = self.sns.create_topic().name(&self.topic_name).send().await.expect("topic");
        assert_eq!(topic.topic_arn(), Some(self.topic_arn.as_str()));
        self.subscribe_all().await;
    }

    /// The publisher the orders function uses, on this topic.
    pub fn publisher(&self) -> shared::notify::SnsPublisher {
        shared::notify::SnsPublisher::new(self.sns.clone(), &self.topic_arn)
    }

    /// Up to 10 messages of queue `index`, as the SQS trigger hands them to a function.
    pub async fn receive(&self, index: usize) -> aws_lambda_events::event::sqs::SqsEvent {
        receive(&self.sqs, &self.queues[index]).await
    }
}

/// Up to 10 messages of the queue at `url`, as the SQS trigger hands them to a function: with
/// the receive count SQS reports for each (a function's give-up rule reads it).
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> aws_lambda_events::event::sqs::SqsEvent {
    use aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount;
    let output = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    let records: Vec<serde_json::Value> = output
        .messages()
        .iter()
        .map(|m| {
            let count = m.attributes().and_then(|a| a.get(&ApproximateReceiveCount));
            let count = count.expect("SQS reports the receive count");
            serde_json::json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": { "ApproximateReceiveCount": count }, "messageAttributes": {},
                "eventSource": "aws:sqs",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).expect("SQS event")
}
