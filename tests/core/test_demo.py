from tracemark import accounts, demo
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Role
from tracemark.pins import brand_pin_key, pin_for
from tracemark.verify import Identity, check_url


def test_demo_setup_is_genuine_and_idempotent(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", demo=True)
    first = demo.setup(settings, "http://127.0.0.1:5000")
    assert first.sample_url.startswith("HTTP://127.0.0.1:5000/01/09506000134352/10/L2401A/21/")
    again = demo.setup(settings, "http://127.0.0.1:5000")
    assert again.sample_url == first.sample_url
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        check = check_url(session, first.sample_url)
        assert check.identity is Identity.GENUINE
        key = brand_pin_key(settings.require_pin_secret(), check.facts.brand_id)
        assert first.sample_pin == pin_for(key, check.code.serial)
        owner = accounts.authenticate(session, first.owner_email, first.owner_password)
        assert owner is not None
        assert accounts.role_in(session, owner, check.facts.brand_id) is Role.OWNER
    engine.dispose()
