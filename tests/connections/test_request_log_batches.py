"""The request log written in batches per process: slices that end while others go on
leave their rows to them; the last one to end writes what is left."""

import threading

from django.db import connections as db_connections

from partnerapp.connections import requestlog
from partnerapp.connections.models import RequestLogEntry
from partnerapp.smartbusiness.client import ApiCall
from tests.jobs.factories import ConnectionFactory


def call() -> ApiCall:
    path = "/receivables/invoices/1/send-by-email"
    return ApiCall("PATCH", path, status=204, duration=0.1, request_id="r", rate_limit=None)


def test_a_slice_ending_while_another_goes_on_leaves_its_rows_to_it(transactional_db):
    connection = ConnectionFactory()
    other_open, other_may_end = threading.Event(), threading.Event()

    def other_slice():
        try:
            with requestlog.batched():
                other_open.set()
                other_may_end.wait(timeout=30)
        finally:
            db_connections.close_all()

    other = threading.Thread(target=other_slice)
    other.start()
    other_open.wait(timeout=30)
    with requestlog.batched():
        for _ in range(3):
            requestlog.entry_record(connection.pk, call(), job_id=None, job_item_id=None)
    assert not RequestLogEntry.objects.exists()  # not one INSERT per slice
    other_may_end.set()
    other.join()
    assert RequestLogEntry.objects.count() == 3  # written when the process's last block ended


def test_rows_older_than_flush_seconds_are_written_by_the_next_call(db, monkeypatch):
    connection = ConnectionFactory()
    monkeypatch.setattr(requestlog, "FLUSH_SECONDS", 0)
    other_open, other_may_end = threading.Event(), threading.Event()

    def other_slice():
        with requestlog.batched():
            other_open.set()
            other_may_end.wait(timeout=30)

    other = threading.Thread(target=other_slice)
    other.start()
    other_open.wait(timeout=30)
    try:
        with requestlog.batched():
            requestlog.entry_record(connection.pk, call(), job_id=None, job_item_id=None)
            assert RequestLogEntry.objects.count() == 1  # due at once: written in this thread
    finally:
        other_may_end.set()
        other.join()


def test_the_last_slice_of_the_process_writes_what_is_left(db):
    connection = ConnectionFactory()
    with requestlog.batched():
        with requestlog.batched():
            requestlog.entry_record(connection.pk, call(), job_id=None, job_item_id=None)
        assert not RequestLogEntry.objects.exists()  # the outer block is still open
    assert RequestLogEntry.objects.count() == 1
