import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from signing.keyring import KeyPurpose
from signing.keys import load_private_key
from tests.conftest import PASSPHRASE, fresh_prefix, gtin_under
from tracemark.cli import main
from tracemark.codes import keystore
from tracemark.models import AuditLog, SigningKey


@pytest.fixture
def run(db, tmp_path):
    env = {
        "TRACEMARK_DATABASE_URL": db.url,
        "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE,
        "TRACEMARK_LABEL_DIR": str(tmp_path / "labels"),
    }

    def invoke(*args, expect=0):
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result.output

    return invoke


def test_brand_to_offline_verification(run, tmp_path, demo):
    slug = f"cli-{demo.brand.slug}"
    run("init-db")
    run("brand", "create", slug, "CLI Brand", "--resolver", "https://tm.cli.example")
    prefix = fresh_prefix()
    pen = gtin_under(prefix)
    refused = run("product", "create", "--brand", slug, pen, "Pen", expect=2)
    assert "company prefixes" in refused  # the brand holds no prefix yet
    run("brand", "prefix", slug, prefix)
    run("product", "create", "--brand", slug, pen, "Pen")
    run("batch", "create", "--brand", slug, "--gtin", pen, "LOT-7")
    kid = run("keys", "create", "--brand", slug).strip()
    assert f"{kid}\t{slug}\tactive" in run("keys", "list", "--brand", slug)

    output = run("issue", "LOT-7", "--brand", slug, "--count", "30")
    assert "30 codes issued" in output

    csv_path = tmp_path / "codes.csv"
    run("labels", "LOT-7", "--brand", slug, "--format", "csv", "-o", str(csv_path))
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 31
    url = lines[1].split(",")[1]
    assert url.startswith(f"HTTPS://TM.CLI.EXAMPLE/01/{pen}/10/LOT-7/21/")

    keys_file = tmp_path / "keys.json"
    run("keys", "export", "--brand", slug, "-o", str(keys_file))
    assert [k["kid"] for k in json.loads(keys_file.read_text())["keys"]] == [kid]

    assert run("verify", url, "--keys", str(keys_file)).startswith("valid")
    assert run("verify", url).startswith("valid")  # against the database, as the server does
    tampered = url[:-2] + ("B" if url[-2] == "A" else "A") + url[-1]
    assert run("verify", tampered, "--keys", str(keys_file), expect=1).startswith("bad_signature")

    run("keys", "revoke", kid, "--reason", "printer compromised")
    assert run("verify", url, expect=1).startswith("revoked_key")
    # a revoked key cannot issue
    assert "no active signing key" in run(
        "issue", "LOT-7", "--brand", slug, "--count", "1", expect=1
    )


def test_offline_verification_agrees_with_the_server(run, tmp_path, client, demo):
    run("issue", demo.batch.lot, "--brand", demo.brand.slug, "--count", "5")
    csv_path = tmp_path / "codes.csv"
    run(
        "labels", demo.batch.lot, "--brand", demo.brand.slug, "--format", "csv", "-o", str(csv_path)
    )
    keys_file = tmp_path / "keys.json"
    run("keys", "export", "--brand", demo.brand.slug, "-o", str(keys_file))
    url = csv_path.read_text().splitlines()[1].split(",")[1]
    variants = [url, url.replace("/10/", "/10/X"), url[:-1] + ("B" if url[-1] == "A" else "A")]
    for candidate in variants:
        offline = CliRunner().invoke(main, ["verify", candidate, "--keys", str(keys_file)])
        page = client.get(candidate[candidate.index("/01/") :]).get_data(as_text=True)
        assert (offline.exit_code == 0) == ('data-verdict="genuine_first_scan"' in page), candidate


def test_bad_inputs_are_clear_errors(run, tmp_path, demo):
    assert "wrong GTIN check digit" in run(
        "product", "create", "--brand", demo.brand.slug, "4006381333932", "X", expect=2
    )
    assert "no batch" in run("issue", "NOPE", "--brand", demo.brand.slug, "--count", "1", expect=1)
    bad_keys = tmp_path / "bad.json"
    bad_keys.write_text("{")
    assert "not valid JSON" in run("verify", "https://x/01/1", "--keys", str(bad_keys), expect=1)
    assert run("verify", "not a url", "--keys", str(bad_keys.with_name("k.json")), expect=2)


def test_missing_passphrase_is_reported(db, demo):
    env = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_KEY_PASSPHRASE": ""}
    result = CliRunner().invoke(main, ["keys", "create", "--brand", demo.brand.slug], env=env)
    assert result.exit_code == 1 and "TRACEMARK_KEY_PASSPHRASE" in result.output


def test_brand_risk_thresholds_are_set_validated_and_reset(run, demo, db):
    slug = demo.brand.slug
    assert "places\t8" in run("brand", "risk", slug)
    shown = run("brand", "risk", slug, "places=10", "countries=5")
    assert "places\t10" in shown and "countries\t5" in shown
    assert "places\t10" in run("brand", "risk", slug)
    assert "unknown risk setting" in run("brand", "risk", slug, "networks_per_day=1", expect=2)
    assert "must be at least 1" in run("brand", "risk", slug, "countries=0", expect=2)
    assert "must be a whole number" in run("brand", "risk", slug, "countries=many", expect=2)
    assert "places\t8" in run("brand", "risk", slug, "--reset")
    with db.sessions() as session:
        changes = session.scalars(
            select(AuditLog)
            .where(AuditLog.brand_id == demo.brand.id, AuditLog.action == "brand.risk_policy")
            .order_by(AuditLog.id)
        ).all()
    # a look at the thresholds and a refused setting change nothing and record nothing
    assert [(e.actor, e.details["policy"]) for e in changes] == [
        ("cli", {"places": 10, "countries": 5}),
        ("cli", {}),
    ]


def test_queued_issue_is_run_by_the_worker(run, demo, tmp_path):
    out = run("issue", demo.batch.lot, "--brand", demo.brand.slug, "--count", "12", "--queue")
    assert "queued" in out
    csv_path = tmp_path / "codes.csv"
    args = ("labels", demo.batch.lot, "--brand", demo.brand.slug, "--format", "csv")
    run(*args, "-o", str(csv_path))
    assert len(csv_path.read_text().splitlines()) == 1  # queued, not issued yet
    assert "task(s) finished" in run("worker", "--once")
    run(*args, "-o", str(csv_path))
    assert len(csv_path.read_text().splitlines()) == 13


def test_rewrapping_keys_moves_them_to_a_new_passphrase(db, demo):
    def run(passphrase: str, *args: str, new: str | None = None):
        env = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_KEY_PASSPHRASE": passphrase}
        if new is not None:
            env["TRACEMARK_NEW_KEY_PASSPHRASE"] = new
        return CliRunner().invoke(main, list(args), env=env)

    lot, brand = demo.batch.lot, demo.brand.slug
    with db.sessions.begin() as session:  # statement keys live under their own passphrase
        statement = keystore.create_key(
            session, session.merge(demo.brand), "statement pass", purpose=KeyPurpose.STATEMENT
        )
    refused = run("not the passphrase", "keys", "rewrap", new="new passphrase")
    assert refused.exit_code == 1 and "nothing changed" in refused.output
    assert run(PASSPHRASE, "issue", lot, "--brand", brand, "--count", "3").exit_code == 0

    done = run(PASSPHRASE, "keys", "rewrap", new="new passphrase")
    try:  # every key of the shared test database moved: put them back after
        assert done.exit_code == 0 and "now open with the new passphrase" in done.output
        assert run(PASSPHRASE, "issue", lot, "--brand", brand, "--count", "3").exit_code != 0
        issued = run("new passphrase", "issue", lot, "--brand", brand, "--count", "3")
        assert issued.exit_code == 0, issued.output
    finally:
        back = run("new passphrase", "keys", "rewrap", new=PASSPHRASE)
        assert back.exit_code == 0, back.output
    with db.sessions() as session:
        pem = session.get(SigningKey, statement.id).private_key_pem
    assert load_private_key(pem, "statement pass")  # left as it was


def test_labels_prune_reports_what_it_deleted(run, tmp_path):
    brand_folder = tmp_path / "labels" / "1"
    brand_folder.mkdir(parents=True)
    part = brand_folder / ".job-1.pdf.x.part"
    part.write_bytes(b"12345")
    import os

    os.utime(part, (0, 0))  # written by a render that died long ago
    assert run("labels-prune", "--days", "30") == "1 label files deleted (5 bytes)\n"
    assert not part.exists()
    run("labels-prune", "--days", "-1", expect=2)


def test_no_codes_for_a_gtin_under_another_brands_prefix(run, db, demo):
    from tracemark import catalog
    from tracemark.models import BrandPrefix, Product

    prefix = fresh_prefix()
    with db.sessions.begin() as session:  # a GTIN registered before its prefix was claimed
        session.get_one(Product, demo.product.id).gtin = gtin_under(prefix)
        holder = catalog.create_brand(session, f"h-{demo.brand.slug}", "Holder")
        session.add(BrandPrefix(brand_id=holder.id, prefix=prefix))
    out = run("issue", demo.batch.lot, "--brand", demo.brand.slug, "--count", "1", expect=1)
    assert "another brand's company prefix" in out
