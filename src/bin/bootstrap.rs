//! The AWS Lambda entry point of watchband's processors (`provided.al2023`): the processor is
//! chosen by `WATCHBAND_PROCESSOR` (backup, stream or metric), see deploy/template.yaml.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    watchband::processors::lambda::run().await
}
