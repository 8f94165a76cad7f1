from kit.migrate import run_env
from services.application.models import Base

run_env(Base.metadata)
