from kit.migrate import run_env
from services.review.models import Base

run_env(Base.metadata)
