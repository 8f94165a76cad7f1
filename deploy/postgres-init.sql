-- One database per service (DESIGN.md: nothing reads another service's tables).
CREATE DATABASE gongkao_identity;
CREATE DATABASE gongkao_application;
CREATE DATABASE gongkao_review;
CREATE DATABASE gongkao_payment;
CREATE DATABASE gongkao_documents;
